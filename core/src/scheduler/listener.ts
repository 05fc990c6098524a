import type { BatchExecutionInfo } from "../execution/batch-execution-info.js";

/** How many records one input stream brought into a batch. */
export interface StreamInputInfo {
  /** The id of the input stream (its order of creation in the context, from 0). */
  readonly inputStreamId: number;
  /** The records the input contributed to the batch. */
  readonly numRecords: number;
}

/**
 * One output operation (`foreachBatch`, `print`, `saveAsTextFiles`, ...) run for one batch:
 * Spark's `OutputOperationInfo`.
 */
export interface OutputOperationInfo {
  /** The batch time this run belongs to. */
  readonly batchTime: number;
  /** The output operation's id (its order of registration, from 0). */
  readonly id: number;
  /** The operation's name, such as `"foreachBatch"`. */
  readonly name: string;
  /** When the run started, on the context's clock. */
  readonly startTime: number | undefined;
  /** When the run ended, on the context's clock. */
  readonly endTime: number | undefined;
  /** `endTime - startTime` once ended. */
  readonly duration: number | undefined;
  /** The error's message when the run failed. */
  readonly failureReason: string | undefined;
  /** The records the operation output (the size of the batch it ran on), once it succeeded. */
  readonly numRecords: number | undefined;
}

/**
 * A batch as the scheduler sees it: Spark's `BatchInfo`. Times are on the context's clock.
 */
export interface BatchInfo {
  /** The batch time. */
  readonly batchTime: number;
  /** Records per input stream. */
  readonly streamIdToInputInfo: ReadonlyMap<number, StreamInputInfo>;
  /** Total records brought by every input. */
  readonly numRecords: number;
  /** When the batch's jobs were submitted. */
  readonly submissionTime: number;
  /** When the first job started. */
  readonly processingStartTime: number | undefined;
  /** When the last job ended. */
  readonly processingEndTime: number | undefined;
  /** Time the batch waited for earlier batches: `processingStartTime - submissionTime`. */
  readonly schedulingDelay: number | undefined;
  /** Time its jobs took: `processingEndTime - processingStartTime`. */
  readonly processingDelay: number | undefined;
  /** Scheduling delay plus processing delay. */
  readonly totalDelay: number | undefined;
  /** Every output operation of the batch, by id. */
  readonly outputOperationInfos: ReadonlyMap<number, OutputOperationInfo>;
  /**
   * What the executors did for the batch (tasks, task time per executor, shuffle bytes, where
   * the time went), once it completed under `local[N]` with N > 1; otherwise undefined.
   */
  readonly execution?: BatchExecutionInfo;
}

/** The executors a context started (`local[N]`, N > 1). */
export interface ExecutorsInfo {
  /** How many executor threads run the job. */
  readonly executors: number;
  /** Their thread ids. */
  readonly threadIds: ReadonlyArray<number>;
  /** The job module they imported. */
  readonly module: string;
}

/** Why a context asked for executors runs on the main thread instead. */
export interface ExecutorsUnavailableInfo {
  /** The executor threads `master` asked for. */
  readonly requested: number;
  /** Why they were not started. */
  readonly reason: string;
}

/** A receiver as reported to listeners: Spark's `ReceiverInfo`. */
export interface ReceiverInfo {
  /** The id of the input stream the receiver feeds. */
  readonly streamId: number;
  /** The receiver's name (its class name unless it sets one). */
  readonly name: string;
  /** Whether the receiver is running. */
  readonly active: boolean;
  /** The last message the receiver reported (an error, a stop or restart reason). */
  readonly lastErrorMessage: string;
  /** The last error it reported. */
  readonly lastError: unknown;
}

/**
 * Flow control of one connector source after a batch completed (docs/flow-control.md): the rate
 * it may deliver at, how much it holds, and whether it is paused.
 */
export interface InputRateInfo {
  /** The id of the input stream. */
  readonly streamId: number;
  /** The connector's id. */
  readonly name: string;
  /** The completed batch that updated the rate. */
  readonly batchTime: number;
  /** True when the PID estimator adapts the rate (the context's `backpressure.enabled`). */
  readonly backpressure: boolean;
  /** Records per second the source may deliver now; undefined = no limit yet. */
  readonly rateLimit: number | undefined;
  /** Records the source may deliver per batch interval now; undefined = no limit. */
  readonly recordsPerBatch: number | undefined;
  /** Records received but not yet processed (waiting for a batch or in an unfinished batch). */
  readonly queuedRecords: number;
  /** Bytes (values and keys) of those records. */
  readonly queuedBytes: number;
  /** The queue's bound in records (`maxBufferedRecords`). */
  readonly maxQueuedRecords: number;
  /** The queue's bound in bytes (`maxBufferedBytes`). */
  readonly maxQueuedBytes: number;
  /** Why the source is paused: its allowance for this interval is used, or the queue is full. */
  readonly paused: "rate" | "queue" | undefined;
  /**
   * For sources that report a backlog per partition (Kafka): each partition's records per batch
   * interval, the allowance split by backlog and capped by `maxRatePerPartition`; undefined for
   * other sources or without a limit.
   */
  readonly recordsPerPartition?: ReadonlyMap<string, number>;
  /**
   * For sources that report a backlog per partition (`Source.backlog()`, such as Kafka's lag plus
   * fetched records): the records waiting per partition as last reported; undefined otherwise.
   */
  readonly backlog?: ReadonlyMap<string, number>;
}

/** Records an operation or a sink rejected, written to the dead-letter sink for one batch. */
export interface DeadLettersInfo {
  /** The batch they were in. */
  readonly batchTime: number;
  /** How many records were written to the dead-letter sink. */
  readonly records: number;
}

/**
 * Receives the context's events, like Spark's `StreamingListener`. Every method is optional and
 * called synchronously when the event happens; an exception thrown by a listener is reported as a
 * process warning and does not affect the job.
 *
 * @example
 * ctx.addListener({
 *   onBatchCompleted: (info) => console.log(info.batchTime, info.numRecords, info.totalDelay),
 * });
 */
export interface StreamingListener {
  /** The context started; `time` is the time of its first batch. */
  onStreamingStarted?(event: { readonly time: number }): void;
  /** A batch's jobs were submitted. */
  onBatchSubmitted?(info: BatchInfo): void;
  /** A batch's first job started. */
  onBatchStarted?(info: BatchInfo): void;
  /** Every job of a batch ended. */
  onBatchCompleted?(info: BatchInfo): void;
  /** One output operation started for a batch. */
  onOutputOperationStarted?(info: OutputOperationInfo): void;
  /** One output operation ended for a batch (see `failureReason`). */
  onOutputOperationCompleted?(info: OutputOperationInfo): void;
  /** The executors started and loaded the job (`local[N]`, N > 1). */
  onExecutorsStarted?(info: ExecutorsInfo): void;
  /** `local[N]` with N > 1 was asked for, but the job runs on the main thread (see `reason`). */
  onExecutorsUnavailable?(info: ExecutorsUnavailableInfo): void;
  /** A connector source's flow control after each completed batch (rate, queue, paused). */
  onInputRate?(info: InputRateInfo): void;
  /** Records that failed were written to the dead-letter sink (`ctx.deadLetters`) for a batch. */
  onDeadLetters?(info: DeadLettersInfo): void;
  /** A receiver started. */
  onReceiverStarted?(info: ReceiverInfo): void;
  /** A receiver reported an error. */
  onReceiverError?(info: ReceiverInfo): void;
  /** A receiver stopped (also before a restart). */
  onReceiverStopped?(info: ReceiverInfo): void;
}
