import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CheckpointData, InputExtent } from "../../src/recovery/checkpoint-data.js";
import { CheckpointStore } from "../../src/recovery/checkpoint-store.js";
import { crc32, crc32Portable } from "../../src/recovery/checksum.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/recovery/envelope.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-checkpoint-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function checkpointAt(time: number, state = "counts"): CheckpointData {
  return {
    appName: "word-count",
    batchInterval: 1000,
    zeroTime: 0,
    time,
    writtenAt: 1_700_000_000_000 + time,
    firstStartedAt: 1_700_000_000_000,
    pendingBatches: [time + 1000],
    inputs: [
      { name: "source:file#1", offsets: new Map([["a.txt", String(time)]]), walSequence: 4 },
    ],
    operators: [
      {
        name: "totals",
        derivedName: false,
        kind: "updateStateByKey",
        fingerprint: "updateStateByKey",
        state: new TextEncoder().encode(`${state}@${time}`),
      },
    ],
  };
}

describe("checksum", () => {
  it("is the standard CRC-32, with the portable fallback equal to zlib's", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251);
    expect(crc32Portable(noise)).toBe(crc32(noise));
  });
});

describe("checkpoint file format", () => {
  const value = { time: 3000, state: new Map([["a", 1]]), bytes: new Uint8Array([1, 2, 3]) };

  it("reads back what it wrote, Maps and bytes included", () => {
    const bytes = encodeEnvelope("checkpoint", value);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe("SLUICE");
    expect(decodeEnvelope("checkpoint", bytes, "c.ckpt")).toEqual(value);
  });

  it("detects a truncated file", () => {
    const bytes = encodeEnvelope("checkpoint", value);
    expect(() =>
      decodeEnvelope("checkpoint", bytes.subarray(0, bytes.length - 3), "c.ckpt"),
    ).toThrow(
      expect.objectContaining({
        code: "SLUICE_CHECKPOINT_CORRUPT",
        message: expect.stringMatching(/c\.ckpt.*truncated/),
      }),
    );
    expect(() => decodeEnvelope("checkpoint", bytes.subarray(0, 10), "c.ckpt")).toThrow(
      expect.objectContaining({ code: "SLUICE_CHECKPOINT_CORRUPT" }),
    );
  });

  it("detects a damaged byte by its checksum", () => {
    const bytes = encodeEnvelope("checkpoint", value);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0xff;
    expect(() => decodeEnvelope("checkpoint", bytes, "c.ckpt")).toThrow(
      expect.objectContaining({
        code: "SLUICE_CHECKPOINT_CORRUPT",
        message: expect.stringContaining("checksum mismatch"),
      }),
    );
  });

  it("refuses a newer format version and a file of another kind", () => {
    const bytes = encodeEnvelope("checkpoint", value);
    bytes[7] = 9;
    expect(() => decodeEnvelope("checkpoint", bytes, "c.ckpt")).toThrow(
      expect.objectContaining({
        code: "SLUICE_CHECKPOINT_VERSION",
        message: expect.stringContaining("version 9"),
      }),
    );
    expect(() => decodeEnvelope("checkpoint", encodeEnvelope("batch", value), "b")).toThrow(
      expect.objectContaining({ code: "SLUICE_CHECKPOINT_CORRUPT" }),
    );
  });
});

describe("CheckpointStore", () => {
  it("writes atomically, keeps the newest checkpoints and reads the latest", async () => {
    const store = new CheckpointStore(join(root, "ckpt"), { keep: 2 });
    for (const time of [1000, 2000, 3000, 4000]) await store.write(checkpointAt(time));
    const files = await readdir(join(root, "ckpt"));
    expect(files.sort()).toEqual([
      "checkpoint-0000000000003000.ckpt",
      "checkpoint-0000000000004000.ckpt",
    ]);
    const { checkpoint, skipped } = await store.readLatest();
    expect(checkpoint).toEqual(checkpointAt(4000));
    expect(skipped).toEqual([]);
  });

  it("falls back to the previous checkpoint when the newest is truncated or corrupt, naming it", async () => {
    const directory = join(root, "ckpt");
    const store = new CheckpointStore(directory);
    for (const time of [1000, 2000, 3000]) await store.write(checkpointAt(time));
    const newest = join(directory, "checkpoint-0000000000003000.ckpt");
    const middle = join(directory, "checkpoint-0000000000002000.ckpt");
    await truncate(newest, 20);
    const bytes = await readFile(middle);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    await writeFile(middle, bytes);

    const { checkpoint, file, skipped } = await store.readLatest();
    expect(checkpoint?.time).toBe(1000);
    expect(file).toMatch(/checkpoint-0000000000001000\.ckpt$/);
    expect(skipped.map((entry) => [entry.file, entry.error.code])).toEqual([
      [newest, "SLUICE_CHECKPOINT_CORRUPT"],
      [middle, "SLUICE_CHECKPOINT_CORRUPT"],
    ]);
    expect(skipped[1]?.error.message).toContain("checksum mismatch");
  });

  it("finds nothing in an empty or missing folder", async () => {
    const store = new CheckpointStore(join(root, "nothing-here"));
    await expect(store.readLatest()).resolves.toEqual({
      checkpoint: undefined,
      file: undefined,
      skipped: [],
    });
  });

  it("refuses to keep fewer than two checkpoints", () => {
    expect(() => new CheckpointStore(root, { keep: 1 })).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringContaining("keep"),
      }),
    );
  });

  it("keeps batch records after the oldest kept checkpoint, in time order", async () => {
    const store = new CheckpointStore(join(root, "ckpt"), { keep: 2 });
    const intent = (time: number) => ({
      time,
      inputs: [
        {
          name: "source:file#1",
          partitions: [["a.txt", 2, String(time)] as const],
          wal: undefined,
        },
      ],
    });
    for (const time of [1000, 2000, 3000, 4000, 5000]) await store.writeBatch(intent(time));
    await store.write(checkpointAt(2000));
    await store.write(checkpointAt(3000));
    // The oldest kept checkpoint is 2000: batches up to it are not needed any more.
    expect((await store.readBatches(0)).intents.map((batch) => batch.time)).toEqual([
      3000, 4000, 5000,
    ]);
    expect((await store.readBatches(3000)).intents).toEqual([intent(4000), intent(5000)]);
    await store.discardBatchesAfter(4000);
    expect((await store.readBatches(3000)).intents.map((batch) => batch.time)).toEqual([4000]);
  });

  it("stops the batch records at a damaged one and reports it", async () => {
    const directory = join(root, "ckpt");
    const store = new CheckpointStore(directory);
    for (const time of [1000, 2000, 3000]) await store.writeBatch({ time, inputs: [] });
    await truncate(join(directory, "batch-0000000000002000.pending"), 5);
    const { intents, skipped } = await store.readBatches(0);
    expect(intents.map((batch) => batch.time)).toEqual([1000]);
    expect(skipped[0]?.file).toMatch(/batch-0000000000002000\.pending$/);
  });

  it("refuses a batch record with a valid checksum but the wrong shape as damaged", async () => {
    const directory = join(root, "ckpt");
    const store = new CheckpointStore(directory);
    const extent: InputExtent = {
      name: "source:file#1",
      partitions: [["a.txt", 2, "10"]],
      wal: undefined,
    };
    for (const time of [1000, 2000, 3000]) await store.writeBatch({ time, inputs: [extent] });
    for (const [time, inputs] of [
      [2000, [{ ...extent, partitions: "a.txt" }]],
      [3000, [{ ...extent, partitions: [], wal: [5, 2] }]],
    ] as const) {
      const file = join(directory, `batch-${String(time).padStart(16, "0")}.pending`);
      await writeFile(file, encodeEnvelope("batch", { time, inputs }));
      const { intents, skipped } = await store.readBatches(time - 1000);
      expect(intents).toEqual([]);
      expect(skipped[0]?.error).toMatchObject({
        code: "SLUICE_CHECKPOINT_CORRUPT",
        message: expect.stringMatching(
          /passed its checksum but .*(partitions|write-ahead log range)/,
        ),
      });
    }
  });

  it("refuses a checkpoint whose fields have the wrong type, listing each", async () => {
    const directory = join(root, "ckpt");
    const store = new CheckpointStore(directory);
    await store.write(checkpointAt(1000));
    const tampered = {
      ...checkpointAt(2000),
      time: "2000",
      pendingBatches: [3000, "x"],
      inputs: [{ name: "source:file#1", offsets: new Map(), walSequence: -3 }],
      operators: [{ name: "totals", kind: "updateStateByKey", state: "bytes" }],
    };
    await writeFile(
      join(directory, "checkpoint-0000000000002000.ckpt"),
      encodeEnvelope("checkpoint", tampered),
    );
    const { checkpoint, skipped } = await store.readLatest();
    expect(checkpoint?.time).toBe(1000);
    const message = skipped[0]?.error.message ?? "";
    for (const problem of [
      "time is not an integer",
      "pendingBatches",
      "write-ahead log position",
      "operator 0",
    ]) {
      expect(message).toContain(problem);
    }
  });

  it("removes the temporary files a crash left behind", async () => {
    const directory = join(root, "ckpt");
    const store = new CheckpointStore(directory);
    await store.write(checkpointAt(1000));
    await writeFile(join(directory, ".checkpoint-0000000000002000.ckpt.abc.tmp"), "half");
    await store.removeTemporaryFiles();
    expect(await readdir(directory)).toEqual(["checkpoint-0000000000001000.ckpt"]);
  });
});
