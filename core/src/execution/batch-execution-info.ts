import type { TaskAttempt } from "./executor-pool.js";

/**
 * What the executors did for one batch (in the listener's `BatchInfo.execution` under
 * `local[N]`, N > 1). Times are wall-clock milliseconds summed over tasks.
 */
export interface BatchExecutionInfo {
  /** Executor threads the context runs on. */
  readonly executors: number;
  /** Tasks that completed. */
  readonly tasks: number;
  /** Task attempts that failed (each retried until `taskMaxFailures`). */
  readonly failedTaskAttempts: number;
  /**
   * Tasks that read a persisted collection's partition on the executor keeping it (Spark's
   * process-local tasks), of `tasks`.
   */
  readonly tasksOnKeptPartitions: number;
  /** Task time per executor thread id: from handing a task over to receiving its result. */
  readonly taskTimeByExecutor: ReadonlyMap<number, number>;
  /** Bytes map tasks wrote into shuffle buckets. */
  readonly shuffleBytes: number;
  /** Time in the job's functions over records (parsing, mapping, filtering). */
  readonly functionsMs: number;
  /** Time placing keys, encoding and decoding shuffle buckets and columnar results. */
  readonly shuffleMs: number;
  /** Time combining values per key (kernels or the job's combiners). */
  readonly aggregateMs: number;
  /** Task time spent neither of those ways: copying records between threads, messaging, waiting. */
  readonly transferMs: number;
}

interface Accumulator {
  tasks: number;
  failedTaskAttempts: number;
  tasksOnKeptPartitions: number;
  taskTimeByExecutor: Map<number, number>;
  shuffleBytes: number;
  functionsMs: number;
  shuffleMs: number;
  aggregateMs: number;
  transferMs: number;
}

/**
 * Adds up task metrics by batch time, for the scheduler to take when the batch completes.
 *
 * @example
 * metrics.recordAttempt(1000, attempt);
 * metrics.take(1000).tasks; // 1
 */
export class ExecutionMetrics {
  private readonly byTime = new Map<number, Accumulator>();

  constructor(private readonly executors: number) {}

  /** A task of the batch at `time` completed (`onKeptPartition`: it read a kept partition). */
  recordAttempt(time: number, attempt: TaskAttempt, onKeptPartition = false): void {
    const entry = this.entry(time);
    const { phases } = attempt.result;
    entry.tasks++;
    if (onKeptPartition) entry.tasksOnKeptPartitions++;
    entry.taskTimeByExecutor.set(
      attempt.threadId,
      (entry.taskTimeByExecutor.get(attempt.threadId) ?? 0) + attempt.ms,
    );
    if (attempt.result.kind === "buckets") entry.shuffleBytes += attempt.result.bytes;
    entry.functionsMs += phases.functionsMs;
    entry.shuffleMs += phases.shuffleMs;
    entry.aggregateMs += phases.aggregateMs;
    entry.transferMs += Math.max(
      0,
      attempt.ms - phases.functionsMs - phases.shuffleMs - phases.aggregateMs,
    );
  }

  /** An attempt of a task of the batch at `time` failed. */
  recordFailure(time: number): void {
    this.entry(time).failedTaskAttempts++;
  }

  /** Driver time decoding a columnar result for the batch at `time`. */
  recordDriverShuffle(time: number, ms: number): void {
    this.entry(time).shuffleMs += ms;
  }

  /**
   * The metrics of the batch at `time` (and of any earlier time not taken, such as window
   * slices computed late), forgotten once taken.
   */
  take(time: number): BatchExecutionInfo {
    const total: Accumulator = emptyAccumulator();
    for (const [at, entry] of this.byTime) {
      if (at > time) continue;
      this.byTime.delete(at);
      total.tasks += entry.tasks;
      total.failedTaskAttempts += entry.failedTaskAttempts;
      total.tasksOnKeptPartitions += entry.tasksOnKeptPartitions;
      for (const [thread, ms] of entry.taskTimeByExecutor) {
        total.taskTimeByExecutor.set(thread, (total.taskTimeByExecutor.get(thread) ?? 0) + ms);
      }
      total.shuffleBytes += entry.shuffleBytes;
      total.functionsMs += entry.functionsMs;
      total.shuffleMs += entry.shuffleMs;
      total.aggregateMs += entry.aggregateMs;
      total.transferMs += entry.transferMs;
    }
    return { executors: this.executors, ...total };
  }

  private entry(time: number): Accumulator {
    let entry = this.byTime.get(time);
    if (entry === undefined) {
      entry = emptyAccumulator();
      this.byTime.set(time, entry);
    }
    return entry;
  }
}

function emptyAccumulator(): Accumulator {
  return {
    tasks: 0,
    failedTaskAttempts: 0,
    tasksOnKeptPartitions: 0,
    taskTimeByExecutor: new Map(),
    shuffleBytes: 0,
    functionsMs: 0,
    shuffleMs: 0,
    aggregateMs: 0,
    transferMs: 0,
  };
}
