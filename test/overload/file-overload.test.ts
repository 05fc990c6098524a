import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SourceInputDStream, StreamingContext } from "sluice";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lineOf, measureOverload, stopWhenDrained } from "./overload-harness.js";

const FILES = 20;
const LINES_PER_FILE = 15_000;
const RECORDS = FILES * LINES_PER_FILE;
const LINE_BYTES = 200; // 60 MB of files
const MAX_BUFFERED = 10_000;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-overload-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("file source under overload", () => {
  it("reads no faster than the job processes, holds a bounded heap, and processes every line once", async () => {
    const input = join(root, "in");
    await mkdir(input);
    for (let file = 0; file < FILES; file++) {
      let text = "";
      const first = file * LINES_PER_FILE;
      for (let index = first; index < first + LINES_PER_FILE; index++) {
        text += lineOf(index, LINE_BYTES);
      }
      await writeFile(join(root, `part-${file}.tmp`), text);
      await rename(
        join(root, `part-${file}.tmp`),
        join(input, `part-${String(file).padStart(3, "0")}.txt`),
      );
    }
    await writeFile(join(input, "_DONE"), "");
    const ctx = new StreamingContext({ batchInterval: 200, defaultParallelism: 1 });
    const lines = ctx.source(
      "file",
      { directory: input, startAt: "earliest", endMarker: "_DONE", pollIntervalMs: 50 },
      { maxBufferedRecords: MAX_BUFFERED },
    ) as SourceInputDStream;
    // 10 µs a record: at most 100 000 records a second; the files are all there at once.
    const run = measureOverload(ctx, lines, RECORDS, 10);
    await ctx.start();
    try {
      await stopWhenDrained(ctx, 18_000);
    } finally {
      run.stop();
      await ctx.stop();
    }
    expect(run.processed()).toBe(RECORDS);
    expect(run.seen.every((count) => count === 1)).toBe(true);
    expect(run.maxQueuedRecords()).toBeGreaterThan(0);
    expect(run.maxQueuedRecords()).toBeLessThanOrEqual(MAX_BUFFERED);
    // 60 MB of files went through; the live heap never held a third of it.
    expect(run.maxHeapGrowth()).toBeLessThan(20 * 1024 * 1024);
  }, 20_000);
});
