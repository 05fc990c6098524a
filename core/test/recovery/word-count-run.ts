// The word count the recovery tests run batch by batch on a manual clock, and the outputs of an
// uninterrupted run to compare a recovered one with.
import type { StreamingContext } from "sluice";
import { expect } from "vitest";
import {
  buildWordCount,
  ManualClock,
  Outputs,
  processed,
  startJob,
  temporaryFolder,
} from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

/** The lines of each batch (batch `index` runs at `(index + 1) * 1000`), over two partitions. */
export const LINES = [["a b", "c"], ["a a"], [], ["b c d"], ["a", "d d"], ["c"], ["e a"], ["b"]];

/** Feeds batch `index` of LINES (batch time `(index + 1) * 1000`) and waits until it ran. */
export async function runBatch(
  ctx: StreamingContext,
  clock: ManualClock,
  log: MemoryLog,
  index: number,
): Promise<void> {
  for (const line of LINES[index] ?? []) log.append(index % 2 === 0 ? "p0" : "p1", line);
  await until(() => log.caughtUp(), `the source delivered batch ${index}`);
  clock.advance(1000);
  await processed(ctx, (index + 1) * 1000);
}

/** The outputs of a run of every batch without a crash. */
export async function uninterrupted(): Promise<Outputs> {
  const reference = await temporaryFolder("sluice-reference-");
  const log = new MemoryLog();
  const outputs = new Outputs();
  const clock = new ManualClock(0);
  const ctx = await startJob(reference.path, clock, (c) =>
    buildWordCount(c, log.plugin(), outputs),
  );
  for (let index = 0; index < LINES.length; index++) await runBatch(ctx, clock, log, index);
  await ctx.stop();
  await reference.remove();
  return outputs;
}

/** Every output of the word count equals the expected run's. */
export function expectSameOutputs(actual: Outputs, expected: Outputs): void {
  for (const label of ["totals", "recent", "pairs-of-batches", "sessions"]) {
    expect(actual.batches(label), label).toEqual(expected.batches(label));
  }
}
