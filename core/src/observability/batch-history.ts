import type { BatchInfo, OutputOperationInfo } from "../scheduler/listener.js";
import { redactText } from "../util/redact-text.js";

/** Where a batch is: waiting for an earlier one, running its output operations, or done. */
export type BatchStatus = "queued" | "processing" | "completed" | "failed";

/** One output operation's run for a batch, as the UI's batch page lists it. */
export interface OutputOperationSummary {
  readonly id: number;
  readonly name: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly durationMs: number | undefined;
  readonly records: number | undefined;
  readonly failureReason: string | undefined;
}

/** What the executors did for a batch under `local[N]`: tasks and task time per executor thread. */
export interface ExecutionSummary {
  readonly executors: number;
  readonly tasks: number;
  readonly failedTaskAttempts: number;
  /** Task milliseconds per executor thread id. */
  readonly taskMsByExecutor: Readonly<Record<string, number>>;
  readonly shuffleBytes: number;
  readonly functionsMs: number;
  readonly shuffleMs: number;
  readonly aggregateMs: number;
  readonly transferMs: number;
}

/** A batch as the UI shows it (plain data, sent to the browser as JSON). */
export interface BatchSummary {
  readonly batchTime: number;
  readonly records: number;
  /** Records per input stream id. */
  readonly recordsByInput: Readonly<Record<string, number>>;
  readonly status: BatchStatus;
  readonly submissionTime: number;
  readonly schedulingDelayMs: number | undefined;
  readonly processingMs: number | undefined;
  readonly totalDelayMs: number | undefined;
  readonly outputOperations: readonly OutputOperationSummary[];
  readonly execution: ExecutionSummary | undefined;
}

/**
 * The batches the UI shows: every batch not yet completed and the last `retained` completed
 * ones (Spark's `spark.streaming.ui.retainedBatches`), updated from listener events.
 *
 * @example
 * const history = new BatchHistory(1000);
 * history.update(info, "completed");
 * history.completed().length; // 1
 */
export class BatchHistory {
  readonly #batches = new Map<number, BatchSummary>();
  readonly #completedTimes: number[] = [];

  constructor(private readonly retained: number) {}

  /** Records the batch's state as of a batch event; returns the summary stored. */
  update(info: BatchInfo, status: BatchStatus): BatchSummary {
    const summary = summarize(info, status);
    const known = this.#batches.has(info.batchTime);
    this.#batches.set(info.batchTime, summary);
    if (
      (status === "completed" || status === "failed") &&
      !this.#completedTimes.includes(info.batchTime)
    ) {
      this.#completedTimes.push(info.batchTime);
      while (this.#completedTimes.length > this.retained) {
        const oldest = this.#completedTimes.shift();
        if (oldest !== undefined) this.#batches.delete(oldest);
      }
    } else if (!known) {
      this.#evictStaleActive();
    }
    return summary;
  }

  /**
   * Records one output operation's progress within its batch; returns the batch's summary, or
   * undefined when the batch is not (or no longer) kept.
   */
  updateOutputOperation(info: OutputOperationInfo): BatchSummary | undefined {
    const batch = this.#batches.get(info.batchTime);
    if (batch === undefined) return undefined;
    const operation = summarizeOutputOperation(info);
    const others = batch.outputOperations.filter((existing) => existing.id !== info.id);
    const updated: BatchSummary = {
      ...batch,
      outputOperations: [...others, operation].sort((a, b) => a.id - b.id),
    };
    this.#batches.set(info.batchTime, updated);
    return updated;
  }

  /** The batch at `batchTime`, if kept. */
  get(batchTime: number): BatchSummary | undefined {
    return this.#batches.get(batchTime);
  }

  /** Every kept batch, oldest first. */
  all(): BatchSummary[] {
    return [...this.#batches.values()].sort((a, b) => a.batchTime - b.batchTime);
  }

  /** The kept completed batches, oldest first. */
  completed(): BatchSummary[] {
    return this.all().filter((batch) => batch.status === "completed" || batch.status === "failed");
  }

  // A batch that never completes (its context stopped at once) must not be kept forever.
  #evictStaleActive(): void {
    const active = [...this.#batches.values()].filter(
      (batch) => batch.status === "queued" || batch.status === "processing",
    );
    const excess = active.length - this.retained;
    if (excess <= 0) return;
    active.sort((a, b) => a.batchTime - b.batchTime);
    for (const batch of active.slice(0, excess)) this.#batches.delete(batch.batchTime);
  }
}

function summarize(info: BatchInfo, status: BatchStatus): BatchSummary {
  const recordsByInput: Record<string, number> = {};
  for (const [id, input] of info.streamIdToInputInfo) recordsByInput[String(id)] = input.numRecords;
  const outputOperations = [...info.outputOperationInfos.values()]
    .map(summarizeOutputOperation)
    .sort((a, b) => a.id - b.id);
  const failed = status === "completed" && outputOperations.some((op) => op.status === "failed");
  return {
    batchTime: info.batchTime,
    records: info.numRecords,
    recordsByInput,
    status: failed ? "failed" : status,
    submissionTime: info.submissionTime,
    schedulingDelayMs: info.schedulingDelay,
    processingMs: info.processingDelay,
    totalDelayMs: info.totalDelay,
    outputOperations,
    execution: info.execution === undefined ? undefined : summarizeExecution(info.execution),
  };
}

function summarizeOutputOperation(info: OutputOperationInfo): OutputOperationSummary {
  const status =
    info.failureReason !== undefined
      ? "failed"
      : info.endTime === undefined
        ? "running"
        : "succeeded";
  return {
    id: info.id,
    name: info.name,
    status,
    durationMs: info.duration,
    records: info.numRecords,
    // Shown on the batch page and in /api: a sink's error may quote its URL or credentials.
    failureReason: info.failureReason === undefined ? undefined : redactText(info.failureReason),
  };
}

function summarizeExecution(execution: NonNullable<BatchInfo["execution"]>): ExecutionSummary {
  const taskMsByExecutor: Record<string, number> = {};
  for (const [threadId, ms] of execution.taskTimeByExecutor)
    taskMsByExecutor[String(threadId)] = ms;
  return {
    executors: execution.executors,
    tasks: execution.tasks,
    failedTaskAttempts: execution.failedTaskAttempts,
    taskMsByExecutor,
    shuffleBytes: execution.shuffleBytes,
    functionsMs: execution.functionsMs,
    shuffleMs: execution.shuffleMs,
    aggregateMs: execution.aggregateMs,
    transferMs: execution.transferMs,
  };
}
