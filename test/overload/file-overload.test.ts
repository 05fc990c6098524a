import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SourceInputDStream } from "sluice/advanced";
import { afterEach, beforeEach } from "vitest";
import {
  describeOverload,
  lineOf,
  type OverloadBounds,
  type OverloadMeasurements,
  overloadContext,
  runOverload,
} from "./overload-harness.js";

// The job processes 10 000 records a second (100 µs each); 60 000 lines of 200 bytes in 20 files
// are all there at once, so intake must be held back.
const FILES = 20;
const bounds: OverloadBounds = {
  records: 60_000,
  maxBufferedRecords: 10_000,
  // 12 MB of files go through; the live heap never holds all of it.
  maxHeapGrowthBytes: 20 * 1024 * 1024,
  batchIntervalMs: 200,
  settleBatches: 10,
};
const LINES_PER_FILE = bounds.records / FILES;
const LINE_BYTES = 200;
const COST_MICROS_PER_RECORD = 100;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-overload-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes every file (each renamed into place whole) and the end marker. */
async function writeFiles(input: string): Promise<void> {
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
}

async function overload(backpressure: boolean): Promise<OverloadMeasurements> {
  const input = join(root, "in");
  await writeFiles(input);
  const ctx = overloadContext(bounds, backpressure);
  const lines = ctx.source(
    "file",
    { directory: input, startAt: "earliest", endMarker: "_DONE", pollIntervalMs: 50 },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  return runOverload(
    { ctx, input: lines, costMicrosPerRecord: COST_MICROS_PER_RECORD, until: "input-end" },
    bounds,
  );
}

describeOverload({ source: "file", record: "line", bounds, overload });
