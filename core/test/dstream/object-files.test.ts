// saveAsObjectFiles writes each batch as prefix-<time>[-writer][.suffix]/part-NNNNN + _SUCCESS
// (v8-serialized records, framed with lengths and CRC-32s), and readObjectFiles reads one back.
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import { batchRecords, readObjectFiles, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { batchCompleted } from "../streaming/events.js";

// A write that fails part-way (a full disk), switched on per test.
// A rename into a given path that fails (a target on another device), likewise.
const failingWrites = vi.hoisted(() => ({
  matching: undefined as RegExp | undefined,
  renamesTo: undefined as RegExp | undefined,
}));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const writeFile: typeof actual.writeFile = (file, data, options) =>
    failingWrites.matching?.test(String(file))
      ? Promise.reject(
          Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), {
            code: "ENOSPC",
          }),
        )
      : actual.writeFile(file, data, options);
  const rename: typeof actual.rename = (from, to) =>
    failingWrites.renamesTo?.test(String(to)) && String(from).endsWith(".tmp")
      ? Promise.reject(
          Object.assign(
            new Error(`EXDEV: cross-device link not permitted, rename '${String(to)}'`),
            {
              code: "EXDEV",
            },
          ),
        )
      : actual.rename(from, to);
  return { ...actual, writeFile, rename };
});

// Each queued record is one partition of its batch, so tests choose the partitions exactly.
type Partitions = unknown[][];

interface Run {
  readonly batches: Partitions[];
  readonly prefix: string;
  readonly suffix?: string;
  readonly writer?: string;
}

function contextFor(run: Run): { ctx: StreamingContext; clock: ManualClock } {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  if (run.writer !== undefined) ctx.writeAs(run.writer);
  ctx
    .queueStream(run.batches.map((partitions) => [partitions]))
    .transform((batch) => ({ partitions: batchRecords(batch).flat() as Partitions }))
    .saveAsObjectFiles(run.prefix, run.suffix);
  return { ctx, clock };
}

/** Runs one batch per entry of `run.batches` to completion. */
async function save(run: Run): Promise<void> {
  const { ctx, clock } = contextFor(run);
  await ctx.start();
  for (let tick = 0; tick < run.batches.length; tick++) {
    const done = batchCompleted(ctx, clock.now() + 1000);
    clock.advance(1000);
    await done;
  }
  await ctx.stop();
}

/** Runs the batches until one fails; resolves with the error the context stopped on. */
async function saveFailing(run: Run): Promise<unknown> {
  const { ctx, clock } = contextFor(run);
  await ctx.start();
  const terminated = ctx.awaitTermination().then(
    () => undefined,
    (error: unknown) => error,
  );
  for (let tick = 0; tick < run.batches.length; tick++) clock.advance(1000);
  const error = await terminated;
  await ctx.stop();
  return error;
}

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-objects-"));
});
afterEach(async () => {
  failingWrites.matching = undefined;
  failingWrites.renamesTo = undefined;
  await rm(dir, { recursive: true, force: true });
});

const first: Partitions = [
  ["text", "", "ünïcödé ✓"],
  [0, -1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 12345678901234567890n],
  [
    { nested: { list: [1, undefined, null, "x"], flag: true } },
    new Map<unknown, unknown>([
      ["a", 1],
      [2, { b: [new Date(86_400_000)] }],
    ]),
    new Set(["x", "y"]),
  ],
];
const second: Partitions = [
  [new Uint8Array([0, 1, 255]), [undefined, undefined], new Date(0), null],
  [],
  [-0n, { deep: { deeper: { deepest: new Map([[1n, new Set([new Uint8Array([7])])]]) } } }],
  [["k", 3]],
];

describe("saveAsObjectFiles and readObjectFiles", () => {
  it("round-trip varied values over several batches and partitions, in partition order", async () => {
    await save({ batches: [first, second], prefix: join(dir, "out"), suffix: "bin" });
    expect((await readdir(dir)).sort()).toEqual(["out-1000.bin", "out-2000.bin"]);
    expect((await readdir(join(dir, "out-2000.bin"))).sort()).toEqual([
      "_SUCCESS",
      "part-00000",
      "part-00001",
      "part-00002",
      "part-00003",
    ]);
    const one = await readObjectFiles(join(dir, "out-1000.bin"));
    const two = await readObjectFiles(join(dir, "out-2000.bin"));
    expect(one).toEqual(first.flat());
    expect(two).toEqual(second.flat());
    // toEqual does not tell these apart; the values must come back with their own types.
    expect(one[8]).toBe(12345678901234567890n);
    expect(one[10]).toBeInstanceOf(Map);
    const dated = (one[10] as Map<unknown, { b: unknown[] }>).get(2);
    expect(dated?.b[0]).toBeInstanceOf(Date);
    expect(dated?.b[0]).toEqual(new Date(86_400_000));
    expect(one[11]).toBeInstanceOf(Set);
    expect(two[0]).toBeInstanceOf(Uint8Array);
    // Its own bytes, not a view keeping the whole part file alive.
    expect((two[0] as Uint8Array).buffer.byteLength).toBeLessThanOrEqual(
      serialize(two[0]).byteLength,
    );
    expect(two[1]).toEqual([undefined, undefined]);
    expect((two[1] as unknown[]).length).toBe(2);
    expect(two[2]).toBeInstanceOf(Date);
    expect(Object.is(one[5], Number.NaN)).toBe(true);
  });

  it("a replayed batch replaces the directory written before", async () => {
    const prefix = join(dir, "out");
    await save({ batches: [first], prefix });
    await save({ batches: [[["again"]]], prefix });
    expect(await readdir(dir)).toEqual(["out-1000"]);
    expect((await readdir(join(dir, "out-1000"))).sort()).toEqual(["_SUCCESS", "part-00000"]);
    expect(await readObjectFiles(join(dir, "out-1000"))).toEqual(["again"]);
  });

  it("a write that fails part-way keeps the batch's previous directory whole and leaves no staging", async () => {
    const prefix = join(dir, "out");
    await save({ batches: [first], prefix });
    failingWrites.matching = /part-00001$/;
    const error = await saveFailing({ batches: [[["new"], ["newer"], ["newest"]]], prefix });
    expect(error).toMatchObject({
      code: "SLUICE_JOB_FAILED",
      message: expect.stringMatching(
        /saveAsObjectFiles: could not write the batch at 1000 ms.*ENOSPC/,
      ),
    });
    expect(await readdir(dir)).toEqual(["out-1000"]);
    expect(await readObjectFiles(join(dir, "out-1000"))).toEqual(first.flat());
  });

  it("a rename into place that fails puts the batch's previous directory back", async () => {
    const prefix = join(dir, "out");
    await save({ batches: [first], prefix });
    failingWrites.renamesTo = /out-1000$/;
    const error = await saveFailing({ batches: [[["new"]]], prefix });
    expect(error).toMatchObject({
      code: "SLUICE_JOB_FAILED",
      message: expect.stringMatching(/EXDEV/),
    });
    expect(await readdir(dir)).toEqual(["out-1000"]);
    expect(await readObjectFiles(join(dir, "out-1000"))).toEqual(first.flat());
  });

  it("removes the staging and moved-aside directories a killed writer left for the same batch", async () => {
    const prefix = join(dir, "out");
    // What a writer of another process, killed mid-write, leaves beside the target.
    for (const leftover of [".out-1000.4242.tmp", ".out-1000.4243.old"]) {
      await mkdir(join(dir, leftover, "nested"), { recursive: true });
    }
    await writeFile(join(dir, ".out-2000.4242.tmp"), "another batch's: not touched");
    await save({ batches: [first], prefix });
    expect((await readdir(dir)).sort()).toEqual([".out-2000.4242.tmp", "out-1000"]);
    expect(await readObjectFiles(join(dir, "out-1000"))).toEqual(first.flat());
  });

  it("writes as the copy of the job the context writes as, after the time", async () => {
    await save({
      batches: [[[1], [2]]],
      prefix: join(dir, "out"),
      suffix: "obj",
      writer: "keyed-3",
    });
    expect(await readdir(dir)).toEqual(["out-1000-keyed-3.obj"]);
    expect(await readObjectFiles(join(dir, "out-1000-keyed-3.obj"))).toEqual([1, 2]);
  });

  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
    norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }

  it.each([
    ["a function", { id: 7, fn: () => 1 }, /a function at \.fn/],
    ["a symbol", ["ok", Symbol("tag")], /a symbol at \[1\]/],
    ["a class instance", { at: new Point(1, 2) }, /an instance of Point at \.at/],
    ["a WeakMap", new Map([["k", new WeakMap()]]), /an instance of WeakMap at <Map value 0>/],
  ])(
    "a record holding %s fails the batch with SLUICE_INVALID_RECORD naming it, and writes nothing",
    async (_what, record, holds) => {
      const prefix = join(dir, "out");
      const error = await saveFailing({
        batches: [
          [[1], [2]],
          [[1], [2, 3, record, 4]],
        ],
        prefix,
      });
      expect(error).toMatchObject({ name: "SluiceError", code: "SLUICE_INVALID_RECORD" });
      const message = (error as Error).message;
      expect(message).toMatch(
        /^saveAsObjectFiles: record 2 of partition 1 in the batch at 2000 ms cannot be saved/,
      );
      expect(message).toMatch(holds);
      expect(message).toMatch(/map the stream to such values before saving/);
      // The batch before is saved; the failed one left neither its directory nor a staging one.
      expect(await readdir(dir)).toEqual(["out-1000"]);
    },
  );

  describe("readObjectFiles refuses", () => {
    const saved = async (): Promise<string> => {
      await save({
        batches: [[["a", "b"], [{ c: 1 }, { d: 2 }], ["e"]]],
        prefix: join(dir, "out"),
      });
      return join(dir, "out-1000");
    };

    it.each([
      ["_SUCCESS", "without _SUCCESS (not completely written)"],
      ["part-00001", "missing a part"],
    ])("a directory once %s is removed: %s", async (removed) => {
      const directory = await saved();
      await rm(join(directory, removed));
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringContaining(`${join(directory, removed)} is missing`),
      });
    });

    it("a directory that does not exist", async () => {
      await expect(readObjectFiles(join(dir, "nowhere"))).rejects.toMatchObject({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringContaining(join(dir, "nowhere")),
      });
    });

    it("a truncated part, naming the file", async () => {
      const directory = await saved();
      const file = join(directory, "part-00001");
      const size = (await readFile(file)).byteLength;
      await truncate(file, size - 3);
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: expect.stringMatching(
          new RegExp(`^${escapeRegExp(file)} is not a valid object file: record 1 .*truncated`),
        ),
      });
    });

    it("a part cut at a record's end, naming the file", async () => {
      const directory = await saved();
      const file = join(directory, "part-00000");
      const bytes = await readFile(file);
      // Header (16 bytes), then "a": length, CRC, payload.
      const firstRecordEnd = 16 + 8 + bytes.readUInt32LE(16);
      await writeFile(file, bytes.subarray(0, firstRecordEnd));
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: expect.stringContaining(
          `${file} is not a valid object file: it announces 2 records but ends after 1`,
        ),
      });
    });

    it("a part with a damaged record, naming the file and the record", async () => {
      const directory = await saved();
      const file = join(directory, "part-00001");
      const bytes = await readFile(file);
      const last = bytes.byteLength - 1;
      bytes[last] = (bytes[last] as number) ^ 0x01;
      await writeFile(file, bytes);
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: `${file} is not a valid object file: record 1's checksum does not match: the file was damaged`,
      });
    });

    it("a part with a damaged header or bytes appended, naming the file", async () => {
      const directory = await saved();
      const file = join(directory, "part-00002");
      const bytes = await readFile(file);
      const counted = Buffer.from(bytes);
      counted[8] = 5; // the record count
      await writeFile(file, counted);
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: `${file} is not a valid object file: its header's checksum does not match: the file was damaged`,
      });
      await writeFile(file, Buffer.concat([bytes, Buffer.from([0, 0])]));
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: `${file} is not a valid object file: 2 bytes follow its 1 records (appended to or damaged)`,
      });
      await writeFile(file, Buffer.from("not an object file at all"));
      await expect(readObjectFiles(directory)).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: `${file} is not a valid object file: it does not start with the SLUICE signature`,
      });
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
