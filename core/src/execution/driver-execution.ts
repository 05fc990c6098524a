import type { DeadLetter } from "../connector/dead-letter.js";
import type { Batch } from "../dstream/batch.js";
import { ColumnarBatch, type ColumnarPartition } from "../dstream/columnar-batch.js";
import { isColumnarStage } from "../dstream/columnar-stage.js";
import type { DStream } from "../dstream/dstream.js";
import {
  CollectionBatch,
  type CollectionPartition,
  type ParallelCollection,
} from "../dstream/parallel-collection.js";
import { isPartitionOperator } from "../dstream/partition-operator.js";
import { isShuffleOperator, type ShuffleOperator } from "../dstream/shuffle-operator.js";
import type { StreamScope } from "../dstream/stream-scope.js";
import { TextPairsBatch } from "../dstream/text-pairs-batch.js";
import { SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
import { graphFingerprint } from "../job/graph-fingerprint.js";
import { type BatchExecutionInfo, ExecutionMetrics } from "./batch-execution-info.js";
import { ExecutorBlocks } from "./executor-blocks.js";
import type { ExecutorJobSpec } from "./executor-job-spec.js";
import { ExecutorPool, type TaskAttempt, TaskAttemptError } from "./executor-pool.js";
import type { JobSettings, ShuffleBucket, TaskInput, TaskResult, TaskSpec } from "./messages.js";
import { decodeGroups } from "./partition-work.js";
import { shippable } from "./shipped-columns.js";
import { pairsOfShipped, type ShippedPairs } from "./shipped-pairs.js";
import { shippedStrings } from "./shipped-strings.js";

/** How a context starts its executors. */
export interface DriverExecutionOptions {
  readonly scope: StreamScope;
  readonly job: ExecutorJobSpec;
  readonly settings: JobSettings;
  /** Threads of a pool of the context's own. */
  readonly threads: number;
  /** A pool to use instead (not closed with the context). */
  readonly pool: ExecutorPool | undefined;
  readonly taskMaxFailures: number;
}

/** Errors that a retry cannot fix: bad input or a job that does not fit the executors. */
const NOT_RETRIED: ReadonlySet<string> = new Set<SluiceErrorCode>([
  "SLUICE_INVALID_ARGUMENT",
  "SLUICE_INVALID_RECORD",
  "SLUICE_MISSING_BATCH",
  "SLUICE_INCONSISTENT_WINDOW",
  "SLUICE_ILLEGAL_STATE",
  "SLUICE_JOB_MISMATCH",
  "SLUICE_INTERNAL",
]);

/**
 * The driver's side of `local[N]`: computes per-partition operators and shuffles as tasks on the
 * executors. A chain of per-partition operators runs as one task per partition of the batch it
 * starts from (computed on the driver: an input, a window, a union, state, a shuffle's result);
 * a shuffle runs one map task per partition of its parent (the chain above it, then placing
 * keys into buckets) and one reduce task per output partition. Every other operator runs on the
 * driver, as with `local[1]`.
 *
 * @example
 * const execution = await DriverExecution.start({ scope, job, settings, threads: 2, pool: undefined, taskMaxFailures: 4 });
 */
export class DriverExecution {
  private readonly metrics: ExecutionMetrics;
  /** Streams two or more streams read: computed once (and kept) rather than in each chain. */
  private readonly shared: ReadonlySet<DStream<unknown>>;
  /** Which executor keeps which partition of the persisted collections. */
  private readonly blocks: ExecutorBlocks;

  private constructor(
    private readonly scope: StreamScope,
    private readonly pool: ExecutorPool,
    private readonly ownsPool: boolean,
    private readonly jobKey: number,
    private readonly taskMaxFailures: number,
  ) {
    this.metrics = new ExecutionMetrics(pool.threads);
    this.shared = new Set([...scope.streams.values()].filter((s) => scope.readersOf(s) > 1));
    this.blocks = new ExecutorBlocks(pool, jobKey);
  }

  /** Starts the executors (or joins a given pool) and loads the job on each of them. */
  static async start(options: DriverExecutionOptions): Promise<DriverExecution> {
    const pool = options.pool ?? new ExecutorPool({ threads: options.threads });
    const jobKey = pool.newJobKey();
    try {
      await pool.loadJob({
        type: "load",
        jobKey,
        job: options.job,
        settings: options.settings,
        streams: graphFingerprint(options.scope.streams),
      });
    } catch (error) {
      if (options.pool === undefined) await pool.close();
      const code = (error as { code?: unknown }).code;
      throw new SluiceError(
        code === "SLUICE_JOB_MISMATCH" || code === "SLUICE_JOB_LOAD_FAILED"
          ? code
          : "SLUICE_EXECUTOR_FAILED",
        `the executors could not load the job ${options.job.exportName} of ${options.job.module}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return new DriverExecution(
      options.scope,
      pool,
      options.pool === undefined,
      jobKey,
      options.taskMaxFailures,
    );
  }

  /** Executor threads. */
  get executors(): number {
    return this.pool.threads;
  }

  /** The executors' thread ids now. */
  threadIds(): number[] {
    return this.pool.threadIds();
  }

  /** The pool tasks run on. */
  get executorPool(): ExecutorPool {
    return this.pool;
  }

  /**
   * The batch of `stream` at `time` computed on the executors, or `undefined` when the stream
   * runs on the driver.
   */
  compute(stream: DStream<unknown>, time: number): Promise<Batch<unknown> | undefined> | undefined {
    // Columnar stages spread their partitions over the native module's threads instead.
    if (isColumnarStage(stream)) return undefined;
    if (isPartitionOperator(stream)) return this.computeChain(stream, time);
    const shuffle = shuffleOf(stream);
    if (shuffle !== undefined) return this.computeShuffle(shuffle, time, stream.id, []);
    return undefined;
  }

  /** The executors' metrics for the batch at `time` (see `ExecutionMetrics.take`). */
  takeMetrics(time: number): BatchExecutionInfo {
    return this.metrics.take(time);
  }

  /**
   * Keeps a persisted collection's partitions on the executors, so tasks reading them run where
   * they are (`ParallelCollection.persist`).
   *
   * @example
   * execution.keep(collection);
   */
  keep(collection: ParallelCollection<unknown>): void {
    this.blocks.keep(collection);
  }

  /**
   * Drops what `keep` placed.
   *
   * @example
   * execution.release(collection);
   */
  release(collection: ParallelCollection<unknown>): void {
    this.blocks.release(collection);
  }

  /** Unloads the job (the executors forget its kept partitions); closes the pool when it is the context's own. */
  async close(): Promise<void> {
    if (this.ownsPool) {
      await this.pool.close();
    } else if (!this.pool.isClosed) {
      this.pool.unloadJob(this.jobKey);
    }
  }

  private async computeChain(
    stream: DStream<unknown>,
    time: number,
  ): Promise<Batch<unknown> | undefined> {
    const { root, chain } = chainOf(stream, this.shared, true);
    // A chain right after a shuffle that nothing else reads runs in the shuffle's reduce tasks;
    // a columnar stage's shuffle (a named reduction after a parser) stays on the driver, and
    // the chain reads its columns.
    const shuffle = this.shared.has(root) || isColumnarStage(root) ? undefined : shuffleOf(root);
    if (shuffle !== undefined) return this.computeShuffle(shuffle, time, stream.id, chain);
    const batch = await root.getOrCompute(time);
    if (batch === undefined) return undefined;
    const partitions = await this.runOverPartitions(
      batch,
      { time, streamId: stream.id, chain, output: { kind: "records" } },
      (result) => this.recordsOf(result, time),
    );
    return { time, partitions };
  }

  /**
   * One task per partition of `batch` (each partition's input made as its task leaves), with
   * `read` applied to each result as it comes; resolves in partition order.
   */
  private runOverPartitions<R>(
    batch: Batch<unknown>,
    spec: Omit<TaskSpec, "input" | "jobKey" | "partition">,
    read: (result: TaskResult) => R,
  ): Promise<R[]> {
    return runWithTaskInputs(batch, (input, partition) =>
      this.run({ ...spec, jobKey: this.jobKey, partition }, input).then(read),
    );
  }

  /**
   * A shuffle's map tasks, then its reduce tasks, which also run `chain` (the per-partition
   * operators after it, when nothing else reads the shuffle's result).
   */
  private async computeShuffle(
    shuffle: DStream<unknown> & ShuffleOperator,
    time: number,
    streamId: number,
    chain: ReadonlyArray<number>,
  ): Promise<Batch<unknown> | undefined> {
    const stream = shuffle;
    const { shuffleParents, numPartitions, requiresEveryParent } = shuffle;
    const sources = await Promise.all(
      shuffleParents.map(async (parent) => {
        const { root, chain } = chainOf(parent, this.shared, false);
        return { parent, chain, batch: await root.getOrCompute(time) };
      }),
    );
    for (const { parent, batch } of sources) {
      if (batch !== undefined) continue;
      if (!requiresEveryParent) return undefined;
      throw new SluiceError(
        "SLUICE_MISSING_BATCH",
        `cogroup at ${time} ms: its parent ${parent.operatorName} (stream ${parent.id}) produced no batch for that time, so there is nothing to combine`,
      );
    }
    let mapTasks = 0;
    for (const { batch } of sources) mapTasks += partitionCount(batch as Batch<unknown>);
    const mapOutputs = await Promise.all(
      sources.map(({ chain, batch }, side) =>
        this.runOverPartitions(
          batch as Batch<unknown>,
          {
            time,
            streamId: stream.id,
            chain,
            output: { kind: "shuffle-write", shuffleId: stream.id, side, mapTasks },
          },
          bucketsOf,
        ),
      ),
    );
    const partitions = await Promise.all(
      Array.from({ length: numPartitions }, (_, partition) =>
        this.run(
          { jobKey: this.jobKey, time, partition, streamId, chain, output: { kind: "records" } },
          {
            kind: "shuffle-read",
            shuffleId: stream.id,
            buckets: mapOutputs.map((side) =>
              side.map((buckets) => buckets[partition] as ShuffleBucket),
            ),
          },
        ).then((result) =>
          result.kind === "string-pairs" ? result.pairs : this.recordsOf(result, time),
        ),
      ),
    );
    // A reduce side's own `[string, number]` rows stay text pairs until something reads them
    // as rows (an inverse window keeps them as they are).
    if (partitions.every((partition) => !Array.isArray(partition))) {
      return new TextPairsBatch(time, partitions as ShippedPairs[]);
    }
    return {
      time,
      partitions: partitions.map((partition) =>
        Array.isArray(partition) ? partition : pairsOfShipped(partition),
      ),
    };
  }

  /**
   * One task, retried up to `taskMaxFailures` attempts. A kept partition is read on the executor
   * keeping it; when that executor is gone, from where the executors keep it now, or shipped.
   */
  private async run(spec: Omit<TaskSpec, "input">, input: PartitionInput): Promise<TaskResult> {
    let attempts = 0;
    let last: unknown;
    while (attempts < this.taskMaxFailures) {
      attempts++;
      let attempt: TaskAttempt;
      let onKeptPartition: boolean;
      try {
        const { task, threadId } = this.placed(spec, input);
        onKeptPartition = threadId !== undefined;
        attempt = await this.pool.runTask(task, threadId);
      } catch (error) {
        this.metrics.recordFailure(spec.time);
        last = error;
        if (!retryable(error)) break;
        continue;
      }
      this.metrics.recordAttempt(spec.time, attempt, onKeptPartition);
      this.keepDeadLetters(attempt.deadLetters);
      return attempt.result;
    }
    throw this.taskFailed(spec, attempts, last);
  }

  /** The task to send for `input`, and the executor it must run on when one keeps its input. */
  private placed(
    spec: Omit<TaskSpec, "input">,
    input: PartitionInput,
  ): { task: TaskSpec; threadId: number | undefined } {
    if (input.kind !== "kept") return { task: { ...spec, input }, threadId: undefined };
    const kept = this.blocks.holderOf(input.origin);
    if (kept === undefined) {
      return { task: { ...spec, input: shippedInput(input.records) }, threadId: undefined };
    }
    return {
      task: { ...spec, input: { kind: "block", blockId: kept.blockId } },
      threadId: kept.threadId,
    };
  }

  /** A task's dead letters join its batch's, written once the batch's outputs ran. */
  private keepDeadLetters(letters: readonly DeadLetter[]): void {
    if (letters.length === 0) return;
    const output = this.scope.recordFailures.activeDeadLetters();
    if (output === undefined) {
      // Only a job with a dead-letter sink makes them, and the driver's context runs its tasks.
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `a task sent ${letters.length} dead letter(s) but the context has no dead-letter output running`,
      );
    }
    for (const letter of letters) output.capture(letter);
  }

  private recordsOf(result: TaskResult, time: number): unknown[] {
    if (result.kind === "records") return result.records;
    if (result.kind === "string-pairs") {
      const started = performance.now();
      const records = pairsOfShipped(result.pairs);
      this.metrics.recordDriverShuffle(time, performance.now() - started);
      return records;
    }
    if (result.kind === "utf8-groups") {
      const started = performance.now();
      const records = decodeGroups(result);
      this.metrics.recordDriverShuffle(time, performance.now() - started);
      return records;
    }
    throw new SluiceError(
      "SLUICE_INTERNAL",
      "a task returned shuffle buckets where records were due",
    );
  }

  private taskFailed(task: Omit<TaskSpec, "input">, attempts: number, error: unknown): SluiceError {
    const lost = error instanceof TaskAttemptError && error.executorLost;
    const cause = error instanceof TaskAttemptError && !lost ? (error.cause ?? error) : error;
    const streamId = (error as { streamId?: unknown }).streamId;
    const id = typeof streamId === "number" ? streamId : task.streamId;
    const stream = this.scope.streams.get(id);
    const what = `${stream?.operatorName ?? "an operator"} (stream ${id})`;
    const causeCode = (cause as { code?: unknown } | null)?.code;
    const code =
      typeof causeCode === "string" && causeCode.startsWith("SLUICE_") && !lost
        ? (causeCode as SluiceErrorCode)
        : "SLUICE_TASK_FAILED";
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SluiceError(
      code,
      `${what} failed for the batch at ${task.time} ms, partition ${task.partition}, after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason}`,
      { cause },
    );
  }
}

/**
 * Calls `run` with each partition's task input, made one partition at a time, so that the first
 * task is on its way to an executor while the next partition is encoded; resolves to their
 * results in partition order.
 */
async function runWithTaskInputs<R>(
  batch: Batch<unknown>,
  run: (input: PartitionInput, partition: number) => Promise<R>,
): Promise<R[]> {
  const started: Promise<R>[] = [];
  const count = partitionCount(batch);
  try {
    for (let partition = 0; partition < count; partition++) {
      started.push(run(taskInput(batch, partition), partition));
    }
  } catch (error) {
    // The tasks already on their way settle before the error goes up: none is left unawaited.
    await Promise.allSettled(started);
    throw error;
  }
  return Promise.all(started);
}

/**
 * A task's input as the driver holds it: sent as it is, or a collection's partition, which the
 * executors may keep (read there), else shipped.
 */
type PartitionInput =
  | TaskInput
  | {
      readonly kind: "kept";
      readonly origin: CollectionPartition;
      readonly records: ReadonlyArray<unknown>;
    };

/**
 * What a partition's task reads: a columnar batch not yet decoded travels as its columns (the
 * executor decodes them), a persisted collection's partition stays where an executor keeps it,
 * a partition of strings travels as one string (`shippedStrings`), anything else as its records.
 */
function taskInput(batch: Batch<unknown>, partition: number): PartitionInput {
  if (batch instanceof ColumnarBatch && !batch.isMaterialised) {
    return { kind: "columns", columns: shippable(batch.columns[partition] as ColumnarPartition) };
  }
  const records = batch.partitions[partition] as ReadonlyArray<unknown>;
  const origin = batch instanceof CollectionBatch ? batch.origins[partition] : undefined;
  if (origin?.collection.isPersisted) return { kind: "kept", origin, records };
  return shippedInput(records);
}

/** Records as they cross to a task: strings as one string, anything else as they are. */
function shippedInput(records: ReadonlyArray<unknown>): TaskInput {
  const strings = shippedStrings(records);
  return strings === undefined ? { kind: "records", records } : { kind: "strings", strings };
}

/** Partitions of `batch`, counted without decoding a columnar batch into JS values. */
function partitionCount(batch: Batch<unknown>): number {
  return batch instanceof ColumnarBatch ? batch.columns.length : batch.partitions.length;
}

/** `stream` as a shuffle, or undefined for any other operator. */
function shuffleOf(stream: DStream<unknown>): (DStream<unknown> & ShuffleOperator) | undefined {
  return isShuffleOperator(stream) ? stream : undefined;
}

/**
 * The per-partition operators from `stream` up to the nearest other stream (the root), parent
 * first. A columnar stage is a root: it is computed on the driver. A stream that several streams read ends the chain as a root (unless it is the stream
 * being computed), so its batch is computed once and kept, as under `local[1]`, instead of once
 * per chain through it.
 */
function chainOf(
  stream: DStream<unknown>,
  shared: ReadonlySet<DStream<unknown>>,
  computing: boolean,
): { root: DStream<unknown>; chain: number[] } {
  const chain: number[] = [];
  let current = stream;
  while (
    isPartitionOperator(current) &&
    !isColumnarStage(current) &&
    ((computing && current === stream) || !shared.has(current))
  ) {
    chain.unshift(current.id);
    current = current.parent;
  }
  return { root: current, chain };
}

function bucketsOf(result: TaskResult): ShuffleBucket[] {
  if (result.kind === "buckets") return result.buckets;
  throw new SluiceError("SLUICE_INTERNAL", "a map task returned records where buckets were due");
}

function retryable(error: unknown): boolean {
  if (!(error instanceof TaskAttemptError)) return false;
  if (error.executorLost) return true;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code !== "string" || !NOT_RETRIED.has(code);
}
