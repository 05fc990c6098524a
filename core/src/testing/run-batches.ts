import { StreamingContext } from "../context/streaming-context.js";
import { batchRecords } from "../dstream/batch.js";
import type { DStream } from "../dstream/dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { ExecutorPool } from "../execution/executor-pool.js";
import { isStreamsJob, type StreamsJob } from "../job/streams-job.js";
import type { Kernels } from "../kernels/kernels.js";
import { ManualClock } from "../scheduler/manual-clock.js";
import { checkPartitionCount } from "../util/check-partitions.js";
import { TestInputDStream } from "./test-input-dstream.js";

/**
 * One input of `runBatches`: the records of each batch in turn; `null` for a batch time at which
 * the input has no batch at all (Spark's `None`), unlike `[]`, an empty batch.
 */
export type InputBatches<T> = ReadonlyArray<ReadonlyArray<T> | null>;

/**
 * Any record. Naming pairs here makes TypeScript infer `["a", 1]` in `inputs` as a
 * `[string, number]` pair rather than an `(string | number)[]`, so pair operations apply.
 */
export type InputRecord = readonly [unknown, unknown] | NonNullable<unknown> | null | undefined;

/** Options of `runBatches`. */
export interface RunBatchesOptions<Inputs extends readonly InputRecord[]> {
  /** One entry per input stream: its batches. */
  readonly inputs: { readonly [I in keyof Inputs]: InputBatches<Inputs[I]> };
  /** The batch interval in milliseconds (default 1000). */
  readonly batchIntervalMs?: number;
  /** How many batch intervals to run (default: the longest input). */
  readonly numBatches?: number;
  /** Partitions of every input batch, and the context's default parallelism (default 2). */
  readonly numPartitions?: number;
  /**
   * Where to run (default `"local"`). With `"local[N]"`, N > 1, a `streamsJob` runs on N
   * executor threads; an inline function runs on the main thread (the context says so).
   */
  readonly master?: string;
  /** Executors to share with other runs (see `StreamingContextOptions.executorPool`). */
  readonly executorPool?: ExecutorPool;
  /** Attempts per task on the executors (default 4). */
  readonly taskMaxFailures?: number;
  /** The kernels the operators run on (default: the loader's choice). */
  readonly kernels?: Kernels;
}

/** The input streams `runBatches` hands its build function. */
export type InputStreams<Inputs extends readonly InputRecord[] | []> = {
  [I in keyof Inputs]: DStream<Inputs[I]>;
};

/**
 * Runs a streaming computation on given input batches, deterministically: a `ManualClock` is
 * moved one batch interval at a time (nothing sleeps) and each batch is processed before the
 * next. `build` receives one stream per input and returns the stream to observe; the result has
 * one array per batch in which that stream produced a batch (an empty batch gives `[]`, a time
 * without a batch gives no entry), records in output order (partitions one after the other).
 * The first error of a batch rejects the run. `build` is a function of the input streams, or a
 * `streamsJob` exported from a module, which also runs under `master: "local[N]"`: executors
 * import the module and rebuild the same graph.
 *
 * @example
 * const output = await runBatches(
 *   { inputs: [[["a", "b", "a"], ["b"]]] },
 *   (words) => words.map((w) => [w, 1]).reduceByKey("sum"),
 * );
 * // output: [[["a", 2], ["b", 1]], [["b", 1]]] (keys within a batch in partition order)
 */
export async function runBatches<Inputs extends readonly InputRecord[] | [], R>(
  options: RunBatchesOptions<Inputs>,
  build: ((...streams: InputStreams<Inputs>) => DStream<R>) | StreamsJob<InputStreams<Inputs>, R>,
): Promise<R[][]> {
  const interval = options.batchIntervalMs ?? 1000;
  if (!Number.isInteger(interval) || interval < 1) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `runBatches: batchIntervalMs must be an integer of at least 1, got ${interval}`,
    );
  }
  const numPartitions = checkPartitionCount(
    options.numPartitions ?? 2,
    "runBatches: numPartitions",
  );
  const inputs = options.inputs as ReadonlyArray<InputBatches<unknown>>;
  const numBatches = options.numBatches ?? Math.max(0, ...inputs.map((batches) => batches.length));
  if (!Number.isInteger(numBatches) || numBatches < 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `runBatches: numBatches must be an integer of at least 0, got ${numBatches}`,
    );
  }

  const clock = new ManualClock(0);
  const ctx = new StreamingContext({
    batchInterval: interval,
    clock,
    defaultParallelism: numPartitions,
    ...(options.master === undefined ? {} : { master: options.master }),
    ...(options.executorPool === undefined ? {} : { executorPool: options.executorPool }),
    ...(options.taskMaxFailures === undefined ? {} : { taskMaxFailures: options.taskMaxFailures }),
    ...(options.kernels === undefined ? {} : { kernels: options.kernels }),
  });
  const scope = ctx.scope;
  const streams = inputs.map((batches) => new TestInputDStream(ctx, batches, numPartitions));
  let buildFunction = build as (...streams: DStream<unknown>[]) => DStream<R>;
  if (isStreamsJob(build)) {
    scope.setJob({
      module: build.module,
      exportName: build.exportName,
      kind: "streams",
      inputs: streams.length,
      args: build.args,
    });
    buildFunction = build.build as (...streams: DStream<unknown>[]) => DStream<R>;
  }
  const observed = buildFunction(...streams);
  if (observed === undefined || observed.context !== ctx) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      "runBatches: build must return a stream made from the streams it was given",
    );
  }
  const output: R[][] = [];
  observed.foreachBatch((batch) => {
    output.push(batchRecords(batch));
  });

  try {
    await ctx.start();
    for (let batch = 1; batch <= numBatches; batch++) {
      clock.advance(interval);
      await scope.awaitProcessed(batch * interval);
      const error = scope.firstError();
      if (error !== undefined) throw error;
    }
  } finally {
    await ctx.stop();
  }
  return output;
}
