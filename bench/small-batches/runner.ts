/**
 * One run of the small-batch benchmark, in its own process: the job of `job.ts` on the real
 * clock against the generator's port, for `warmupMs + measureMs` after the context started.
 * Prints one line, `small-batches-result ` and JSON: every batch completed (time, records, processing time timed with
 * `performance.now()` between the batch's start and completion events, scheduling delay, the
 * lag of its submission and of its end behind its batch time) and the words counted.
 *   runner.ts '<json RunnerArgs>'
 */
import { createJobContext } from "sluice";
import { type SmallBatchArgs, wordsCounted } from "./job.js";

/** What the benchmark asks one run for. */
export interface RunnerArgs {
  readonly form: SmallBatchArgs["form"];
  readonly master: string;
  readonly intervalMs: number;
  readonly port: number;
  readonly warmupMs: number;
  readonly measureMs: number;
}

/** One completed batch as the runner saw it. */
export interface BatchSample {
  readonly time: number;
  readonly records: number;
  readonly processingMs: number;
  readonly schedulingDelayMs: number;
  readonly submitLagMs: number;
  readonly endLagMs: number;
}

/** What a run prints. */
export interface RunnerOutput {
  /** The measured span on the wall clock (batch times after the warm-up up to its end). */
  readonly measureStart: number;
  readonly measureEnd: number;
  readonly batches: BatchSample[];
  readonly wordsCounted: number;
  readonly recordsInBatches: number;
  /** CPU time of this process (all its threads) over the measured span, ms. */
  readonly cpuMs: number;
  /** The part of it spent in the kernel (system calls: timers, sockets, thread wake-ups), ms. */
  readonly systemMs: number;
  /** What the source reported besides records (connection failures, stops). */
  readonly receiverEvents: string[];
  /** Flow control after the last batch (`onInputRate`): rate, queue, pause. */
  readonly lastInputRate: unknown;
  /** Batches after which flow control had the source paused, by reason. */
  readonly pausedBatches: Record<string, number>;
  /** The measured span as this process timed it, ms. */
  readonly measuredWallMs: number;
}

/** Starts the line that carries a run's output. */
const RESULT_MARK = "small-batches-result ";

const args = JSON.parse(process.argv[2] as string) as RunnerArgs;
const MODULE = new URL("./job.ts", import.meta.url);
const ctx = await createJobContext(
  {
    module: MODULE,
    exportName: "smallBatchWordCount",
    args: { form: args.form, host: "127.0.0.1", port: args.port } satisfies SmallBatchArgs,
  },
  { batchInterval: args.intervalMs, master: args.master },
);
const started = new Map<number, number>();
const batches: BatchSample[] = [];
let recordsInBatches = 0;
const receiverEvents: string[] = [];
let lastInputRate: unknown;
const pausedBatches: Record<string, number> = {};
ctx.addListener({
  onInputRate: (info) => {
    lastInputRate = { ...info, recordsPerPartition: undefined, backlog: undefined };
    if (info.paused !== undefined)
      pausedBatches[info.paused] = (pausedBatches[info.paused] ?? 0) + 1;
  },
  onReceiverError: (info) => receiverEvents.push(`error: ${info.lastErrorMessage}`),
  onReceiverStopped: (info) => receiverEvents.push(`stopped: ${info.lastErrorMessage}`),
  onBatchStarted: (info) => {
    started.set(info.batchTime, performance.now());
  },
  onBatchCompleted: (info) => {
    const start = started.get(info.batchTime);
    started.delete(info.batchTime);
    recordsInBatches += info.numRecords;
    batches.push({
      time: info.batchTime,
      records: info.numRecords,
      processingMs: start === undefined ? 0 : performance.now() - start,
      schedulingDelayMs: info.schedulingDelay ?? 0,
      submitLagMs: info.submissionTime - info.batchTime,
      endLagMs: (info.processingEndTime ?? info.submissionTime) - info.batchTime,
    });
  },
});
await ctx.start();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(args.warmupMs);
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
const measureStart = Date.now();
await sleep(args.measureMs);
const cpu = process.cpuUsage(cpuBefore);
const measuredWallMs = performance.now() - wallBefore;
const measureEnd = Date.now();
await ctx.stop();
const output: RunnerOutput = {
  measureStart,
  measureEnd,
  batches,
  wordsCounted: wordsCounted.total,
  recordsInBatches,
  cpuMs: (cpu.user + cpu.system) / 1000,
  systemMs: cpu.system / 1000,
  receiverEvents,
  lastInputRate,
  pausedBatches,
  measuredWallMs,
};
// Marked: the job's logger writes JSON lines to stdout too.
process.stdout.write(`${RESULT_MARK}${JSON.stringify(output)}\n`);
// Executor threads and the socket could keep the process alive: the run is over.
process.exit(0);
