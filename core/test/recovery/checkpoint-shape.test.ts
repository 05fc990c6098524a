// Checkpoints that pass their checksum but do not hold what this job saved — edited by hand,
// written by another job or by a bug — are refused as corrupt and the previous checkpoint is
// used: the outputs are those of an uninterrupted run, never state restarted from nothing.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import type { CheckpointData } from "../../src/recovery/checkpoint-data.js";
import { CheckpointStore } from "../../src/recovery/checkpoint-store.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/recovery/envelope.js";
import {
  buildWordCount,
  folderPerTest,
  ManualClock,
  Outputs,
  processed,
  startJob,
} from "./job-harness.js";
import { MemoryLog } from "./memory-brokers.js";
import { expectSameOutputs, LINES, runBatch, uninterrupted } from "./word-count-run.js";

const NEWEST = "checkpoint-0000000000004000.ckpt";

const folder = folderPerTest("sluice-checkpoint-shape-");
const { running } = folder;

/** Rewrites the newest checkpoint with `change` applied, under a valid checksum. */
async function tamper(change: (checkpoint: CheckpointData) => void): Promise<string> {
  const file = join(folder.path, NEWEST);
  const checkpoint = decodeEnvelope("checkpoint", await readFile(file), file) as CheckpointData;
  change(checkpoint);
  await writeFile(file, encodeEnvelope("checkpoint", checkpoint));
  return file;
}

/** Replaces the saved state of the first operator of `kind` with `state`. */
function replaceState(kind: string, state: (saved: unknown) => unknown) {
  return (checkpoint: CheckpointData) => {
    const operator = checkpoint.operators.find((entry) => entry.kind === kind);
    if (operator === undefined) throw new Error(`no ${kind} operator in the checkpoint`);
    (operator as { state: Uint8Array }).state = serialize(state(deserialize(operator.state)));
  };
}

const TAMPERINGS: readonly [string, (checkpoint: CheckpointData) => void, string][] = [
  [
    "running totals saved as an empty object",
    replaceState("updateStateByKey", () => ({})),
    "updateStateByKey",
  ],
  [
    "running totals saved as a string",
    replaceState("updateStateByKey", () => "totals"),
    "updateStateByKey",
  ],
  [
    "running totals whose pairs are not a list",
    replaceState("updateStateByKey", (saved) => ({ ...(saved as object), pairs: 7 })),
    "pairs is not a list",
  ],
  [
    "window panes whose partitions are not a list",
    replaceState("window", (saved) =>
      (saved as { time: number }[]).map((batch) => ({ ...batch, partitions: "p0" })),
    ),
    "partitions",
  ],
  [
    "reduceByKeyAndWindow state of another type",
    replaceState("reduceByKeyAndWindow", () => [1, 2, 3]),
    "reduceByKeyAndWindow",
  ],
  [
    "mapWithState entries in a Map",
    replaceState("mapWithState", () => ({ time: 4000, entries: new Map() })),
    "entries",
  ],
  [
    "an input's offsets as a list",
    (checkpoint) => {
      (checkpoint.inputs[0] as { offsets: unknown }).offsets = [["p0", "1"]];
    },
    "offsets",
  ],
  [
    "an input's awaited record ids as a list",
    (checkpoint) => {
      (checkpoint.inputs[0] as { awaitedIds: unknown }).awaitedIds = ["a#1"];
    },
    "awaited record ids",
  ],
  [
    "a batch time a timer cannot reach",
    (checkpoint) => {
      (checkpoint as { time: number }).time = 4000 + 2 ** 40;
    },
    "ahead of the clock",
  ],
];

describe("checkpoints with a valid checksum but the wrong shape", () => {
  for (const [what, change, reason] of TAMPERINGS) {
    it(`falls back to the previous checkpoint: ${what}`, async () => {
      const expected = await uninterrupted();
      const log = new MemoryLog();
      const outputs = new Outputs();
      const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);
      const clock1 = new ManualClock(0);
      const first = await startJob(folder.path, clock1, build);
      running.push(first);
      for (let index = 0; index < 4; index++) await runBatch(first, clock1, log, index);
      log.crash();
      const file = await tamper(change);

      const clock2 = new ManualClock(4000);
      const second = await startJob(folder.path, clock2, build);
      running.push(second);
      await processed(second, 4000);
      const report = second.recoveryReport;
      expect(report?.checkpointTime).toBe(3000);
      expect(report?.skippedCheckpoints).toEqual([
        { name: file, reason: expect.stringContaining(reason) },
      ]);
      expect(report?.skippedCheckpoints[0]?.reason).toMatch(/checksum but/);
      expect(report?.droppedState).toEqual([]);
      for (let index = 4; index < LINES.length; index++) await runBatch(second, clock2, log, index);
      expectSameOutputs(outputs, expected);
    });
  }

  it("refuses a folder none of whose checkpoints can be restored, saying why", async () => {
    const log = new MemoryLog();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, build);
    running.push(first);
    for (let index = 0; index < 4; index++) await runBatch(first, clock, log, index);
    log.crash();
    const store = new CheckpointStore(folder.path);
    for (const time of await store.checkpointTimes()) {
      const file = join(folder.path, `checkpoint-${String(time).padStart(16, "0")}.ckpt`);
      const checkpoint = decodeEnvelope("checkpoint", await readFile(file), file) as CheckpointData;
      replaceState("updateStateByKey", () => "totals")(checkpoint);
      await writeFile(file, encodeEnvelope("checkpoint", checkpoint));
    }
    await expect(startJob(folder.path, new ManualClock(4000), build)).rejects.toMatchObject({
      code: "SLUICE_CHECKPOINT_CORRUPT",
      message: expect.stringMatching(/no checkpoint in .* can be restored: .*updateStateByKey/),
    });
  });
});
