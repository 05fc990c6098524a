import { availableParallelism } from "node:os";
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from "../cluster/cluster-options.js";
import { isCloseName } from "../connector/edit-distance.js";
import { hasErrorCode, SluiceError } from "../errors/sluice-error.js";
import type { ExecutorPool } from "../execution/executor-pool.js";
import { RateController, type RateControlOptions } from "../flow/rate-controller.js";
import type { Kernels } from "../kernels/kernels.js";
import {
  type ResolvedUiOptions,
  resolveUiOptions,
  type UiOptions,
} from "../observability/ui-options.js";
import type { Clock } from "../scheduler/clock.js";
import { type Duration, parseDuration } from "../util/duration.js";

/** How a `StreamingContext` is set up. */
export interface StreamingContextOptions {
  /** The batch interval: every batch covers this much time (`1000`, `"500ms"`, `"2s"`, `"1m"`). */
  readonly batchInterval: Duration;
  /**
   * Where jobs run, as in Spark: `"local"`, `"local[N]"` or `"local[*]"` (one per core). With
   * N > 1, a job loaded from a module (`createJobContext`) runs the per-partition work of every
   * batch on N executor threads; `"local"` and `"local[1]"` run everything on the main thread.
   * The number also sets the default parallelism (partitions of shuffles).
   */
  readonly master?: string;
  /** The application's name, for logs and listeners. */
  readonly appName?: string;
  /**
   * Folder to checkpoint to, as `ctx.checkpoint(folder)` does: state, offsets and a write-ahead
   * log that let `StreamingContext.getOrCreate` resume the job after a crash (docs/fault-tolerance.md).
   */
  readonly checkpoint?: string;
  /** How often to checkpoint: a multiple of the batch interval (default: after every batch). */
  readonly checkpointInterval?: Duration;
  /** The clock batches tick on (default: `SystemClock`; tests pass a `ManualClock`). */
  readonly clock?: Clock;
  /**
   * The kernels the streaming operators run on (default: the loader's choice, see
   * `chooseKernels`): tests and benchmarks pass `new JsKernels()` or `new NativeKernels(...)` to
   * run one job on a given engine. Executor threads make their own choice.
   */
  readonly kernels?: Kernels;
  /** Partitions of shuffles when an operation names none (default: from `master`, else 2). */
  readonly defaultParallelism?: number;
  /** How many batches may be processed at once (Spark's `spark.streaming.concurrentJobs`; default 1). */
  readonly concurrentJobs?: number;
  /**
   * Attempts a task gets on the executors before its batch fails (Spark's
   * `spark.task.maxFailures`; default 4).
   */
  readonly taskMaxFailures?: number;
  /**
   * Executors to run on instead of starting `master`'s own (for example one pool shared by the
   * tests of a file). The context loads its job on them and unloads it when it stops, but does
   * not close them.
   */
  readonly executorPool?: ExecutorPool;
  /**
   * Flow control of connector sources (Spark's `spark.streaming.backpressure.*`, `receiver.maxRate`,
   * `kafka.maxRatePerPartition`): the PID estimator adapts each source's rate to what the batches
   * process (on unless `enabled: false`), capped by `initialRate`, `maxRate` and
   * `maxRatePerPartition` (records per second). See docs/flow-control.md.
   */
  readonly backpressure?: RateControlOptions;
  /**
   * Serve the job's web UI and Prometheus `/metrics` (docs/operating.md) from `start()` until
   * `stop()`; off when absent. Bound to 127.0.0.1 unless `host` says otherwise, and anywhere
   * else only with a `token` (the context refuses to be built without one:
   * `SLUICE_UI_TOKEN_REQUIRED`). Read the address from `ctx.uiUrl` once started.
   */
  readonly ui?: UiOptions;
  /**
   * Runs this process as one of several running the same job module, coordinated by Kafka's
   * consumer group protocol: the input partitions of the job's Kafka sources are shared among the
   * processes of `group` and move when processes come and go (docs/cluster.md).
   */
  readonly cluster?: ClusterOptions;
}

/** Every option a context takes, so that a misspelt one is refused instead of ignored. */
const OPTION_NAMES: Record<keyof StreamingContextOptions, true> = {
  batchInterval: true,
  master: true,
  appName: true,
  checkpoint: true,
  checkpointInterval: true,
  clock: true,
  kernels: true,
  defaultParallelism: true,
  concurrentJobs: true,
  taskMaxFailures: true,
  executorPool: true,
  backpressure: true,
  ui: true,
  cluster: true,
};

// Options often come from a config object or plain JavaScript, where TypeScript's check of
// excess properties does not reach: `chekpoint` would silently mean no checkpoint at all.
function unknownOptions(options: object): string[] {
  const known = Object.keys(OPTION_NAMES);
  return Object.keys(options)
    .filter((name) => !Object.hasOwn(OPTION_NAMES, name))
    .map((name) => {
      const close = known.find((candidate) => isCloseName(name, candidate));
      return `unknown option "${name}"${close === undefined ? "" : ` (did you mean "${close}"?)`}; the options are ${known.join(", ")}`;
    });
}

/** Options checked and with defaults applied. */
export interface ResolvedContextOptions {
  readonly batchInterval: number;
  readonly master: string | undefined;
  readonly appName: string;
  readonly checkpoint: string | undefined;
  readonly defaultParallelism: number;
  readonly concurrentJobs: number;
  /** Executor threads `master` asks for (1: everything on the main thread). */
  readonly executors: number;
  readonly taskMaxFailures: number;
  readonly executorPool: ExecutorPool | undefined;
  readonly backpressure: RateControlOptions;
  /** The UI to serve while the context runs, if any. */
  readonly ui: ResolvedUiOptions | undefined;
  /** The cluster this process is part of, if any. */
  readonly cluster: ResolvedClusterOptions | undefined;
}

/**
 * Checks a context's options, reporting every problem at once in one `SluiceError`.
 *
 * @example
 * resolveContextOptions({ batchInterval: "1s", master: "local[4]" }).defaultParallelism; // 4
 */
export function resolveContextOptions(options: StreamingContextOptions): ResolvedContextOptions {
  const problems: string[] = [];
  const attempt = <R>(read: () => R, fallback: R): R => {
    try {
      return read();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return fallback;
    }
  };
  if (typeof options !== "object" || options === null) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      "StreamingContext: expected options such as { batchInterval: '1s' }",
    );
  }
  problems.push(...unknownOptions(options));
  const batchInterval = attempt(() => parseDuration(options.batchInterval, "batchInterval"), 1);
  // Checked here too (the checkpoint settings read it only with a checkpoint folder) so a bad
  // interval is listed with the other problems, whether or not the job checkpoints.
  if (options.checkpointInterval !== undefined) {
    attempt(() => parseDuration(options.checkpointInterval as Duration, "checkpointInterval"), 0);
  }
  const master = options.master;
  const masterParallelism =
    master === undefined ? undefined : attempt(() => parallelismOfMaster(master), 1);
  const defaultParallelism = options.defaultParallelism ?? masterParallelism ?? 2;
  if (!Number.isInteger(defaultParallelism) || defaultParallelism < 1) {
    problems.push(
      `defaultParallelism must be an integer of at least 1, got ${String(defaultParallelism)}`,
    );
  }
  const concurrentJobs = options.concurrentJobs ?? 1;
  if (!Number.isInteger(concurrentJobs) || concurrentJobs < 1) {
    problems.push(`concurrentJobs must be an integer of at least 1, got ${String(concurrentJobs)}`);
  }
  const taskMaxFailures = options.taskMaxFailures ?? 4;
  if (!Number.isInteger(taskMaxFailures) || taskMaxFailures < 1) {
    problems.push(
      `taskMaxFailures must be an integer of at least 1, got ${String(taskMaxFailures)}`,
    );
  }
  if (
    options.checkpoint !== undefined &&
    (typeof options.checkpoint !== "string" || options.checkpoint === "")
  ) {
    problems.push("checkpoint must be a directory path");
  }
  if (options.appName !== undefined && typeof options.appName !== "string") {
    problems.push("appName must be a string");
  }
  const backpressure = options.backpressure ?? {};
  // Built once here so bad rates or PID gains fail when the context is created.
  attempt((): void => void new RateController(batchInterval, backpressure), undefined);
  // A UI reachable from other machines without a token is refused with its own code, once the
  // options have no other problem.
  let uiRefusal: unknown;
  let ui: ResolvedUiOptions | undefined;
  if (options.ui !== undefined) {
    try {
      ui = resolveUiOptions(options.ui);
    } catch (error) {
      if (hasErrorCode(error, "SLUICE_UI_TOKEN_REQUIRED")) uiRefusal = error;
      else problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  const cluster =
    options.cluster === undefined ? undefined : resolveClusterOptions(options.cluster, problems);
  if (problems.length > 0) {
    throw new SluiceError("SLUICE_INVALID_ARGUMENT", `StreamingContext: ${problems.join("; ")}`);
  }
  if (uiRefusal !== undefined) throw uiRefusal;
  return {
    batchInterval,
    master,
    appName: options.appName ?? "sluice",
    checkpoint: options.checkpoint,
    defaultParallelism,
    concurrentJobs,
    executors: masterParallelism ?? 1,
    taskMaxFailures,
    executorPool: options.executorPool,
    backpressure,
    ui,
    cluster,
  };
}

/** `"local"` → 1, `"local[N]"` → N, `"local[*]"` → the machine's parallelism. */
function parallelismOfMaster(master: string): number {
  if (master === "local") return 1;
  const match = /^local\[(\d+|\*)\]$/.exec(master);
  const threads = match?.[1];
  if (threads === "*") return availableParallelism();
  if (threads !== undefined && Number(threads) >= 1) return Number(threads);
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `master "${master}" is not supported: use "local", "local[N]" (N ≥ 1) or "local[*]"`,
  );
}
