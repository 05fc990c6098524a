import type {
  BatchInfo,
  DeadLettersInfo,
  InputRateInfo,
  OutputOperationInfo,
  ReceiverInfo,
  StreamingListener,
} from "../scheduler/listener.js";
import { BatchHistory, type BatchSummary } from "./batch-history.js";
import { type CheckpointStatus, readCheckpointStatus } from "./checkpoint-status.js";
import { type SourceStatus, SourceStatuses } from "./source-statuses.js";

/** The job a UI shows, as the page header describes it. */
export interface ObservedJob {
  readonly appName: string;
  readonly batchInterval: number;
  readonly master: string | undefined;
  readonly checkpointDirectory: string | undefined;
}

/** Everything the UI's main page shows, as plain data. */
export interface JobSnapshot {
  readonly appName: string;
  readonly batchIntervalMs: number;
  readonly master: string | undefined;
  /** The time of the first batch, once the job started. */
  readonly startTime: number | undefined;
  readonly completedBatches: number;
  readonly totalRecords: number;
  /** Records written to the dead-letter sink so far. */
  readonly deadLetters: number;
  readonly batches: readonly BatchSummary[];
  readonly sources: readonly SourceStatus[];
  readonly checkpoint: CheckpointStatus | undefined;
  readonly checkpointing: boolean;
}

/** A change pushed to the open pages. */
export type JobChange =
  | { readonly kind: "batch"; readonly batch: BatchSummary; readonly totals: JobTotals }
  | { readonly kind: "sources"; readonly sources: readonly SourceStatus[] }
  | { readonly kind: "checkpoint"; readonly checkpoint: CheckpointStatus | undefined }
  | { readonly kind: "started"; readonly startTime: number }
  | { readonly kind: "deadLetters"; readonly deadLetters: number };

/** Running totals over the whole run (not only the batches kept). */
export interface JobTotals {
  readonly completedBatches: number;
  readonly totalRecords: number;
}

/**
 * Keeps what the UI shows about a running job — its batches, sources and checkpoint — from the
 * job's listener events, and tells subscribers (the open pages) about each change.
 *
 * @example
 * const observer = new JobObserver(ctx, 1000);
 * ctx.addListener(observer);
 * observer.subscribe((change) => console.log(change.kind));
 */
export class JobObserver implements StreamingListener {
  readonly #job: ObservedJob;
  readonly #history: BatchHistory;
  readonly #sources: SourceStatuses;
  readonly #subscribers = new Set<(change: JobChange) => void>();
  #startTime: number | undefined;
  #completedBatches = 0;
  #totalRecords = 0;
  #deadLetters = 0;
  #checkpoint: CheckpointStatus | undefined;

  constructor(job: ObservedJob, retainedBatches: number) {
    this.#job = job;
    this.#history = new BatchHistory(retainedBatches);
    this.#sources = new SourceStatuses(job.batchInterval);
  }

  /** Calls `subscriber` with every change; returns the unsubscribe function. */
  subscribe(subscriber: (change: JobChange) => void): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** What the main page shows now. */
  snapshot(): JobSnapshot {
    return {
      appName: this.#job.appName,
      batchIntervalMs: this.#job.batchInterval,
      master: this.#job.master,
      startTime: this.#startTime,
      completedBatches: this.#completedBatches,
      totalRecords: this.#totalRecords,
      deadLetters: this.#deadLetters,
      batches: this.#history.all(),
      sources: this.#sources.all(),
      checkpoint: this.#checkpoint,
      checkpointing: this.#job.checkpointDirectory !== undefined,
    };
  }

  /** The batch at `batchTime`, while it is kept. */
  batch(batchTime: number): BatchSummary | undefined {
    return this.#history.get(batchTime);
  }

  onStreamingStarted(event: { readonly time: number }): void {
    this.#startTime = event.time;
    this.#publish({ kind: "started", startTime: event.time });
  }

  onBatchSubmitted(info: BatchInfo): void {
    this.#publishBatch(this.#history.update(info, "queued"));
  }

  onBatchStarted(info: BatchInfo): void {
    this.#publishBatch(this.#history.update(info, "processing"));
  }

  onBatchCompleted(info: BatchInfo): void {
    this.#completedBatches++;
    this.#totalRecords += info.numRecords;
    this.#sources.batchCompleted(info);
    this.#publishBatch(this.#history.update(info, "completed"));
    this.#publish({ kind: "sources", sources: this.#sources.all() });
    this.#refreshCheckpoint();
  }

  onOutputOperationStarted(info: OutputOperationInfo): void {
    const batch = this.#history.updateOutputOperation(info);
    if (batch !== undefined) this.#publishBatch(batch);
  }

  onOutputOperationCompleted(info: OutputOperationInfo): void {
    const batch = this.#history.updateOutputOperation(info);
    if (batch !== undefined) this.#publishBatch(batch);
  }

  onInputRate(info: InputRateInfo): void {
    this.#sources.inputRate(info);
    this.#publish({ kind: "sources", sources: this.#sources.all() });
  }

  onDeadLetters(info: DeadLettersInfo): void {
    this.#deadLetters += info.records;
    this.#publish({ kind: "deadLetters", deadLetters: this.#deadLetters });
  }

  onReceiverStarted(info: ReceiverInfo): void {
    this.#receiver("started", info);
  }

  onReceiverStopped(info: ReceiverInfo): void {
    this.#receiver("stopped", info);
  }

  onReceiverError(info: ReceiverInfo): void {
    this.#receiver("error", info);
  }

  #receiver(event: "started" | "stopped" | "error", info: ReceiverInfo): void {
    this.#sources.receiver(event, info);
    this.#publish({ kind: "sources", sources: this.#sources.all() });
  }

  // Read after each batch, since the checkpoint of a batch is written once its outputs ran.
  #refreshCheckpoint(): void {
    const directory = this.#job.checkpointDirectory;
    if (directory === undefined) return;
    void readCheckpointStatus(directory).then((checkpoint) => {
      this.#checkpoint = checkpoint;
      this.#publish({ kind: "checkpoint", checkpoint });
    });
  }

  #publishBatch(batch: BatchSummary): void {
    this.#publish({
      kind: "batch",
      batch,
      totals: { completedBatches: this.#completedBatches, totalRecords: this.#totalRecords },
    });
  }

  #publish(change: JobChange): void {
    for (const subscriber of this.#subscribers) subscriber(change);
  }
}
