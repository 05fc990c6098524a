// The chaos procedure shared by every variant: the job is started, killed with SIGKILL at random
// moments and restarted while a producer feeds it, then run until everything produced is counted
// and stopped with SIGTERM.
import { JobProcess, type SeededRandom } from "./job-process.js";
import type { ChaosJobSettings } from "./jobs/word-count-settings.js";

/** What a chaos run saw. */
export interface ChaosRunSummary {
  /** Kills that landed after the job had started (not during its start-up). */
  readonly killedWhileRunning: number;
  /** Batches the restarts replayed from their records. */
  readonly replayedBatches: number;
}

/**
 * Runs the job `kills` times, killing each run at a random moment (every other one after it has
 * started), while `produce` runs; then runs it until `counted()` reaches `words`, and stops it with
 * SIGTERM, which must end it with exit code 0.
 */
export async function chaosRun(options: {
  readonly settings: ChaosJobSettings;
  readonly random: SeededRandom;
  readonly kills: number;
  /** Feeds the job; stops early when `signal` aborts (the run failed). */
  readonly produce: (signal: AbortSignal) => Promise<void>;
  /** Called once the first run has started (a producer may need the job's session first). */
  readonly onFirstStart?: () => Promise<void>;
  readonly counted: () => Promise<number>;
  readonly words: () => number;
  readonly jobs: JobProcess[];
  readonly describe: string;
}): Promise<ChaosRunSummary> {
  const stopProducing = new AbortController();
  let producing: Promise<void> | undefined;
  try {
    return await run(options, stopProducing.signal, (started) => {
      producing = started;
    });
  } finally {
    stopProducing.abort();
    await producing?.catch(() => undefined);
  }
}

async function run(
  options: Parameters<typeof chaosRun>[0],
  signal: AbortSignal,
  onProducing: (producing: Promise<void>) => void,
): Promise<ChaosRunSummary> {
  const { settings, random, kills, jobs } = options;
  let killedWhileRunning = 0;
  let replayedBatches = 0;
  let producing: Promise<void> | undefined;
  for (let kill = 0; kill < kills; kill++) {
    const job = new JobProcess(settings);
    jobs.push(job);
    if (producing === undefined) {
      await job.waitFor((out) => out.startsWith("started"), "the first start", 120_000);
      await options.onFirstStart?.();
      producing = options.produce(signal);
      onProducing(producing);
    }
    if (kill % 2 === 1) {
      await job.waitFor((out) => out.startsWith("started"), `run ${kill} started`, 120_000);
      await new Promise((resolve) => setTimeout(resolve, random.int(100, 1500)));
    } else {
      await new Promise((resolve) => setTimeout(resolve, random.int(300, 3000)));
    }
    job.signal("SIGKILL");
    const exit = await job.exited;
    if (exit.signal !== "SIGKILL") {
      throw new Error(
        `${options.describe}: run ${kill} ended on its own (${JSON.stringify(exit)})\n${job.describe()}`,
      );
    }
    if (job.recovery !== undefined) killedWhileRunning++;
    replayedBatches += job.recovery?.replayedBatches.length ?? 0;
  }
  await producing;

  const final = new JobProcess(settings);
  jobs.push(final);
  await final.waitFor((out) => out.startsWith("started"), "the last start", 120_000);
  replayedBatches += final.recovery?.replayedBatches.length ?? 0;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counted = await options.counted();
    if (counted >= options.words()) break;
    if (Date.now() > deadline) {
      throw new Error(
        `${options.describe}: ${counted} of ${options.words()} words counted\n${final.describe()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  final.signal("SIGTERM");
  const exit = await final.exited;
  if (exit.code !== 0) {
    throw new Error(
      `${options.describe}: SIGTERM ended the job with ${JSON.stringify(exit)}\n${final.describe()}`,
    );
  }
  return { killedWhileRunning, replayedBatches };
}

/**
 * What each run of a chaos test did around the batch times a check found wrong: its recovery
 * (checkpoint and replayed batches), whether it completed each of those batches, and how it ended.
 * Put into failure messages, so a rare failure can be read without running it again.
 */
export function runHistory(jobs: readonly JobProcess[], times: readonly number[]): string {
  const lines = jobs.map((job, index) => {
    const recovery = job.recovery;
    const completed = new Set(job.batches.map((batch) => batch.time));
    const batches = job.batches.map((batch) => batch.time);
    const span =
      batches.length === 0
        ? "no batch"
        : `batches ${batches[0]}…${batches.at(-1)} (${batches.length})`;
    const replayed = recovery?.replayedBatches ?? [];
    const around = times
      .map(
        (time) =>
          `${time}: ${completed.has(time) ? "completed" : "not completed"}${replayed.includes(time) ? ", replayed" : ""}`,
      )
      .join("; ");
    return `run ${index}: checkpoint ${recovery?.checkpointTime ?? "none"}, ${replayed.length} replayed, ${span}, ended ${JSON.stringify(job.exitStatus ?? "running")}; ${around}`;
  });
  return lines.join("\n");
}

/** The batch times named in the problems `consistencyProblems` returns. */
export function problemTimes(problems: readonly string[]): number[] {
  return problems.flatMap((problem) => {
    const match = /^(?:totals|window) at (\d+)/.exec(problem);
    return match === null ? [] : [Number(match[1])];
  });
}
