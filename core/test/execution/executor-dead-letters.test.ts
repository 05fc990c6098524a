// Records a function throws on, on executor threads, in a job with a dead-letter sink: they go
// to the sink with their batch, source position and error, and the batch goes on.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchInfo, createJobContext, type SourceRecord, type StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { batchCompleted } from "../streaming/events.js";
import { outputs, type ParsedNumbersArgs, queues } from "./jobs/dead-letters.js";

const JOBS = new URL("./jobs/dead-letters.ts", import.meta.url);
const encoder = new TextEncoder();
let folder: string;
const running: StreamingContext[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "sluice-executor-dead-letters-"));
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Source-like records of `texts`, at offsets 1, 2, ... of partition `partition`. */
function recordsOf(partition: string, texts: string[]): SourceRecord[] {
  return texts.map((text, index) => ({
    value: encoder.encode(text),
    headers: {},
    timestampMs: 0,
    partition,
    offset: String(index + 1),
  }));
}

/** Runs the batch at 1000 ms of `parsedNumbers` under `local[2]` over `batch`. */
async function runOneBatch(name: string, batch: SourceRecord[], failOnce = false) {
  queues.set(name, [batch]);
  const args: ParsedNumbersArgs = {
    name,
    deadLetters: join(folder, "dead"),
    ...(failOnce ? { failOnceMarker: join(folder, "failed-once") } : {}),
  };
  const clock = new ManualClock(0);
  const ctx = await createJobContext(
    { module: JOBS, exportName: "parsedNumbers", args },
    { batchInterval: 1000, clock, master: "local[2]", defaultParallelism: 2 },
  );
  running.push(ctx);
  const completed: BatchInfo[] = [];
  ctx.addListener({ onBatchCompleted: (info) => completed.push(info) });
  await ctx.start();
  const done = batchCompleted(ctx, 1000);
  clock.advance(1000);
  await done;
  return completed.find((info) => info.batchTime === 1000) as BatchInfo;
}

async function deadLetters(): Promise<Record<string, unknown>[]> {
  const directory = join(folder, "dead");
  const letters: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (name.startsWith(".")) continue;
    const text = await readFile(join(directory, name), "utf8");
    for (const line of text.split("\n").filter(Boolean)) letters.push(JSON.parse(line));
  }
  return letters;
}

const BATCH = [
  ...recordsOf("readings-0", ["1", "2", "{oops", "4"]),
  ...recordsOf("readings-1", ["5", "13", "7", "8"]),
];

describe("a record a function throws on, on an executor thread", () => {
  it("goes to the dead-letter sink with its batch, operation, error and source position; the batch goes on", async () => {
    const info = await runOneBatch("dead-letters", BATCH);
    expect(info.execution?.executors).toBe(2);
    expect(info.execution?.tasks).toBeGreaterThanOrEqual(2);
    expect(info.execution?.failedTaskAttempts).toBe(0);
    expect(outputs.get("dead-letters")).toEqual([[2, 4, 8, 10, 14, 16]]);
    const letters = await deadLetters();
    expect(letters).toEqual(
      expect.arrayContaining([
        {
          batchTime: 1000,
          operation: "map",
          error: expect.stringContaining("JSON"),
          source: { partition: "readings-0", offset: "3" },
          record: "{oops",
        },
        { batchTime: 1000, operation: "filter", error: "13 is refused", record: "13" },
      ]),
    );
    expect(letters).toHaveLength(2);
  });

  it("is written once when the task that sent it is retried", async () => {
    const info = await runOneBatch("retried", BATCH, true);
    expect(info.execution?.failedTaskAttempts).toBe(1);
    expect(outputs.get("retried")).toEqual([[2, 4, 8, 10, 14, 16]]);
    const letters = await deadLetters();
    expect(letters.map((letter) => letter.record).sort()).toEqual(["13", "{oops"]);
  });
});
