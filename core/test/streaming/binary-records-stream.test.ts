// binaryRecordsStream is the file source in binary mode: records of recordLength bytes, one
// partition per file in name order, recovered through the source's byte offsets.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { batchesUntil, nextBatch } from "./events.js";

let root: string;
let input: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-binary-records-"));
  input = join(root, "in");
  await mkdir(input);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes a file beside the watched folder and moves it in, as Spark requires. */
async function moveIn(name: string, bytes: Uint8Array): Promise<void> {
  await writeFile(join(root, name), bytes);
  await rename(join(root, name), join(input, name));
}

/** `count` records of `recordLength` bytes: record n is `tag` then n, then n repeated. */
function records(tag: number, count: number, recordLength: number): Uint8Array {
  const bytes = new Uint8Array(count * recordLength);
  for (let n = 0; n < count; n++) {
    bytes.fill(n, n * recordLength, (n + 1) * recordLength);
    bytes[n * recordLength] = tag;
  }
  return bytes;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The records `records(tag, count, recordLength)` holds, as hex. */
const expected = (tag: number, count: number, recordLength: number) =>
  Array.from({ length: count }, (_, n) =>
    hex(records(tag, count, recordLength).subarray(n * recordLength, (n + 1) * recordLength)),
  );

describe("binaryRecordsStream", () => {
  it("reads records of recordLength bytes, one partition per file in name order, over batches", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const batches: Uint8Array[][][] = [];
    await moveIn("old.bin", records(9, 2, 5));
    ctx
      .binaryRecordsStream(input, 5, { filter: (name) => !name.endsWith(".skip") })
      .foreachBatch((batch) => {
        batches.push(batch.partitions.map((partition) => [...partition]));
      });
    await ctx.start();
    const seen = () => batches.flat(2).length;
    try {
      // Files already there when the job first starts are skipped (newFilesOnly).
      await nextBatch(ctx, clock);
      await moveIn("b.bin", records(2, 3, 5));
      await moveIn("a.bin", records(1, 4, 5));
      await moveIn("c.skip", records(7, 1, 5));
      await batchesUntil(ctx, clock, () => seen() >= 7, "the records of a.bin and b.bin");
      const before = batches.length;
      await moveIn("d.bin", records(4, 2, 5));
      await batchesUntil(ctx, clock, () => seen() >= 9, "the records of d.bin");
      expect(batches.slice(before).flat(2).map(hex)).toEqual(expected(4, 2, 5));
    } finally {
      await ctx.stop();
    }
    const all = batches.flat(2);
    for (const record of all) {
      expect(record).toBeInstanceOf(Uint8Array);
      expect(record.byteLength).toBe(5);
    }
    // Each file's records in file order; a batch's partitions are its files in name order.
    const byTag = (tag: number) => all.filter((record) => record[0] === tag).map(hex);
    expect(byTag(1)).toEqual(expected(1, 4, 5));
    expect(byTag(2)).toEqual(expected(2, 3, 5));
    expect(byTag(9)).toEqual([]);
    expect(byTag(7)).toEqual([]);
    for (const batch of batches) {
      const tags = batch.map((partition) => partition[0]?.[0]);
      expect(tags).toEqual([...tags].sort());
      for (const partition of batch) {
        expect(new Set(partition.map((record) => record[0])).size).toBe(1);
      }
    }
  });

  it("reads files already there with newFilesOnly: false", async () => {
    await moveIn("old.bin", records(3, 2, 8));
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: string[] = [];
    ctx.binaryRecordsStream(input, 8, { newFilesOnly: false }).foreachBatch((batch) => {
      seen.push(...batchRecords(batch).map(hex));
    });
    await ctx.start();
    try {
      await batchesUntil(ctx, clock, () => seen.length >= 2, "the records of old.bin");
    } finally {
      await ctx.stop();
    }
    expect(seen).toEqual(expected(3, 2, 8));
  });

  it.each([
    ["zero", 0],
    ["fractional", 1.5],
    ["over 16 MiB", 16 * 1024 * 1024 + 1],
  ])("refuses a recordLength that is %s when the stream is made, naming it", (_, length) => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    expect(() => ctx.binaryRecordsStream(input, length)).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_CONFIG",
        issues: [expect.objectContaining({ path: "recordLength" })],
      }),
    );
  });

  it("stops the job on trailing bytes short of a record, after the whole records before them", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: string[] = [];
    ctx.binaryRecordsStream(input, 4, { newFilesOnly: false }).foreachBatch((batch) => {
      seen.push(...batchRecords(batch).map(hex));
    });
    const bytes = records(5, 3, 4);
    await moveIn("a.bin", Uint8Array.of(...bytes, 0xee, 0xff));
    await ctx.start();
    try {
      await batchesUntil(ctx, clock, () => seen.length >= 3, "the whole records of a.bin");
      await vi.waitFor(() => expect(ctx.scope.firstError()).toBeDefined(), { timeout: 10_000 });
      expect(ctx.scope.firstError()).toMatchObject({
        code: "SLUICE_INPUT_FAILED",
        message: expect.stringContaining('the record in "a.bin" at byte 12 is 2 bytes'),
        cause: expect.objectContaining({ code: "SLUICE_INVALID_RECORD" }),
      });
    } finally {
      await ctx.stop().catch(() => undefined);
    }
    expect(seen).toEqual(expected(5, 3, 4));
  });
});
