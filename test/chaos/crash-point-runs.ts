// What the crash-point chaos tests share: a run that must die by its own SIGKILL right after a
// step, the last run that counts everything, and the check of the file outputs against the
// words produced.
import { join } from "node:path";
import { expect } from "vitest";
import { consistencyProblems, readFileOutput, sorted, sumOverBatches } from "./ground-truth.js";
import { JobProcess } from "./job-process.js";
import type { ChaosJobSettings, CrashSettings } from "./jobs/word-count-settings.js";

/**
 * Runs the job with `crash` and expects it to die there by its own SIGKILL (`where` and `seed`
 * name the run in failures). The process is added to `jobs` (killed after the test).
 *
 * @example
 * await dieAt(base, { step: "rename", path: "checkpoint-" }, "first checkpoint", jobs, seed);
 */
export async function dieAt(
  base: ChaosJobSettings,
  crash: CrashSettings,
  where: string,
  jobs: JobProcess[],
  seed: number,
): Promise<JobProcess> {
  const job = new JobProcess({ ...base, crash });
  jobs.push(job);
  const exit = await job.exited;
  expect(exit.signal, `${where} (seed ${seed}): the job killed itself\n${job.describe()}`).toBe(
    "SIGKILL",
  );
  expect(job.stdout, where).toContain(`crashing after ${crash.step}`);
  return job;
}

/** The words the per-batch counts under `out` add up to so far. */
async function counted(out: string): Promise<number> {
  const counts = sumOverBatches(await readFileOutput(join(out, "counts")));
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

/**
 * Runs the job without a crash until the per-batch counts under `out` reach `total` words (at
 * most two minutes), then stops it with SIGTERM and expects a clean exit.
 *
 * @example
 * await lastRunCountingTo(base, join(root, "out"), 499, jobs);
 */
export async function lastRunCountingTo(
  base: ChaosJobSettings,
  out: string,
  total: number,
  jobs: JobProcess[],
): Promise<void> {
  const last = new JobProcess(base);
  jobs.push(last);
  await last.waitFor((stdout) => stdout.includes("started"), "the last start", 120_000);
  const deadline = Date.now() + 120_000;
  while ((await counted(out)) < total && !last.hasExited && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  last.signal("SIGTERM");
  expect((await last.exited).code, last.describe()).toBe(0);
}

/**
 * Expects the per-batch counts under `out` to add up to `expected`, and the counts, running
 * totals and windows there to agree batch by batch.
 *
 * @example
 * await expectFileOutputs(join(root, "out"), expected, BATCH_MS, seed);
 */
export async function expectFileOutputs(
  out: string,
  expected: ReadonlyMap<string, number>,
  batchMs: number,
  seed: number,
): Promise<void> {
  const counts = await readFileOutput(join(out, "counts"));
  const totals = await readFileOutput(join(out, "totals"));
  const windows = await readFileOutput(join(out, "windows"));
  expect(sorted(sumOverBatches(counts)), `counts (seed ${seed})`).toEqual(sorted(expected));
  expect(consistencyProblems(counts, totals, windows, batchMs), `seed ${seed}`).toEqual([]);
}
