import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type {
  BatchInfo,
  DeadLettersInfo,
  InputRateInfo,
  OutputOperationInfo,
  ReceiverInfo,
  StreamingListener,
} from "../scheduler/listener.js";
import { readCheckpointStatus } from "./checkpoint-status.js";

/** Seconds from 5 ms to a minute: the range of batch delays worth telling apart. */
const DELAY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the metrics need to know about the job they describe. */
export interface MetricsSubject {
  readonly appName: string;
  readonly batchInterval: number;
  readonly checkpointDirectory: string | undefined;
}

/** Choices of `SluiceMetrics` beyond the job it describes. */
export interface SluiceMetricsOptions {
  /**
   * Include prom-client's process metrics (`process_*`, `nodejs_*`) of the calling thread
   * (default true). The UI's worker thread turns them off and serves the job's main thread's
   * instead: heap, event loop and GC numbers describe the thread that reads them.
   */
  readonly processMetrics?: boolean;
}

/**
 * A job's Prometheus metrics, fed by its listener events: batch delays as histograms, records in
 * per source and out per output operation, flow control's state per source, the executors'
 * tasks, the checkpoint's age, and Node's process metrics. Each instance has its own registry (never prom-client's
 * global one), so two jobs in one process keep their numbers apart.
 *
 * @example
 * const metrics = new SluiceMetrics(ctx);
 * ctx.addListener(metrics);
 * const text = await metrics.text();
 */
export class SluiceMetrics implements StreamingListener {
  /** The registry holding every metric; `text()` renders it. */
  readonly registry = new Registry();
  readonly #names = new Map<number, string>();
  readonly #batchProcessing: Histogram<string>;
  readonly #schedulingDelay: Histogram<string>;
  readonly #totalDelay: Histogram<string>;
  readonly #inputRecords: Counter<"source">;
  readonly #outputRecords: Counter<"operation">;
  readonly #outputFailures: Counter<"operation">;
  readonly #queuedRecords: Gauge<"source">;
  readonly #backlog: Gauge<"source" | "partition">;
  readonly #deadLetters: Counter<string>;
  readonly #paused: Gauge<"source">;
  readonly #rateLimit: Gauge<"source">;
  readonly #sourceErrors: Counter<"source">;
  readonly #lastBatchTime: Gauge<string>;
  readonly #executorTasks: Counter<string>;
  readonly #tasksOnKeptPartitions: Counter<string>;
  readonly #taskFailures: Counter<string>;
  readonly #shuffleBytes: Counter<string>;

  constructor(subject: MetricsSubject, options: SluiceMetricsOptions = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ app: subject.appName });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#batchProcessing = new Histogram({
      name: "sluice_batch_processing_seconds",
      help: "Time each batch's output operations took (Spark's processing time).",
      buckets: DELAY_BUCKETS,
      registers,
    });
    this.#schedulingDelay = new Histogram({
      name: "sluice_scheduling_delay_seconds",
      help: "Time each batch waited for earlier batches before it started; growing means the job falls behind.",
      buckets: DELAY_BUCKETS,
      registers,
    });
    this.#totalDelay = new Histogram({
      name: "sluice_batch_total_delay_seconds",
      help: "Scheduling delay plus processing time of each batch.",
      buckets: DELAY_BUCKETS,
      registers,
    });
    this.#inputRecords = new Counter({
      name: "sluice_input_records_total",
      help: "Records each source brought into completed batches.",
      labelNames: ["source"],
      registers,
    });
    this.#outputRecords = new Counter({
      name: "sluice_output_records_total",
      help: "Records each output operation wrote in completed runs.",
      labelNames: ["operation"],
      registers,
    });
    this.#outputFailures = new Counter({
      name: "sluice_output_operation_failures_total",
      help: "Runs of each output operation that failed.",
      labelNames: ["operation"],
      registers,
    });
    this.#queuedRecords = new Gauge({
      name: "sluice_source_queued_records",
      help: "Records a source delivered that no completed batch processed yet (flow control's queue).",
      labelNames: ["source"],
      registers,
    });
    this.#backlog = new Gauge({
      name: "sluice_source_backlog_records",
      help: "Records waiting per partition of a source that reports its backlog (Kafka: lag plus fetched, unread records).",
      labelNames: ["source", "partition"],
      registers,
    });
    this.#deadLetters = new Counter({
      name: "sluice_dead_letters_total",
      help: "Records an operation or a sink rejected, written to the dead-letter sink.",
      registers,
    });
    this.#paused = new Gauge({
      name: "sluice_source_paused",
      help: "1 while flow control holds a source paused (its rate used up, or its queue full), else 0.",
      labelNames: ["source"],
      registers,
    });
    this.#rateLimit = new Gauge({
      name: "sluice_source_rate_limit_records_per_second",
      help: "Records per second flow control lets a source deliver (absent without a limit).",
      labelNames: ["source"],
      registers,
    });
    this.#sourceErrors = new Counter({
      name: "sluice_source_errors_total",
      help: "Errors a source reported (failed connects and reads; each is retried).",
      labelNames: ["source"],
      registers,
    });
    this.#lastBatchTime = new Gauge({
      name: "sluice_last_completed_batch_time_seconds",
      help: "Batch time of the last completed batch, seconds since the epoch.",
      registers,
    });
    // Under local[N], N > 1, from BatchInfo.execution; absent otherwise (no executors).
    this.#executorTasks = new Counter({
      name: "sluice_executor_tasks_total",
      help: "Tasks the executors completed (local[N], N > 1).",
      registers,
    });
    this.#tasksOnKeptPartitions = new Counter({
      name: "sluice_executor_tasks_on_kept_partitions_total",
      help: "Tasks that read a persisted collection's partition on the executor keeping it.",
      registers,
    });
    this.#taskFailures = new Counter({
      name: "sluice_executor_task_failures_total",
      help: "Task attempts that failed on the executors (each retried up to taskMaxFailures).",
      registers,
    });
    this.#shuffleBytes = new Counter({
      name: "sluice_executor_shuffle_bytes_total",
      help: "Bytes map tasks wrote into shuffle buckets.",
      registers,
    });
    // Read at every scrape: the job may be given its checkpoint folder after this was built.
    // Labelled by the folder so that, before the first checkpoint, no series is shown at all
    // (an unlabelled gauge would show 0, which reads as "just written").
    const newestCheckpoint = async () => {
      const directory = subject.checkpointDirectory;
      if (directory === undefined) return undefined;
      const status = await readCheckpointStatus(directory);
      return status === undefined ? undefined : { directory, status };
    };
    new Gauge({
      name: "sluice_checkpoint_age_seconds",
      help: "Seconds since the newest checkpoint was written (absent before the first one).",
      labelNames: ["directory"],
      registers,
      async collect() {
        this.reset();
        const newest = await newestCheckpoint();
        if (newest !== undefined)
          this.set({ directory: newest.directory }, newest.status.ageSeconds);
      },
    });
    new Gauge({
      name: "sluice_checkpoint_size_bytes",
      help: "Size of the newest checkpoint file (absent before the first one).",
      labelNames: ["directory"],
      registers,
      async collect() {
        this.reset();
        const newest = await newestCheckpoint();
        if (newest !== undefined)
          this.set({ directory: newest.directory }, newest.status.sizeBytes);
      },
    });
  }

  /** The content type of `text()`: Prometheus' text exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus' text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  onBatchCompleted(info: BatchInfo): void {
    if (info.processingDelay !== undefined) {
      this.#batchProcessing.observe(info.processingDelay / 1000);
    }
    if (info.schedulingDelay !== undefined) {
      this.#schedulingDelay.observe(info.schedulingDelay / 1000);
    }
    if (info.totalDelay !== undefined) this.#totalDelay.observe(info.totalDelay / 1000);
    for (const [inputId, input] of info.streamIdToInputInfo) {
      this.#inputRecords.inc({ source: this.#nameOf(inputId) }, input.numRecords);
    }
    this.#lastBatchTime.set(info.batchTime / 1000);
    const { execution } = info;
    if (execution !== undefined) {
      this.#executorTasks.inc(execution.tasks);
      this.#tasksOnKeptPartitions.inc(execution.tasksOnKeptPartitions);
      this.#taskFailures.inc(execution.failedTaskAttempts);
      this.#shuffleBytes.inc(execution.shuffleBytes);
    }
  }

  onOutputOperationCompleted(info: OutputOperationInfo): void {
    const operation = `${info.id}:${info.name}`;
    if (info.failureReason !== undefined) {
      this.#outputFailures.inc({ operation });
    } else {
      this.#outputRecords.inc({ operation }, info.numRecords ?? 0);
    }
  }

  onInputRate(info: InputRateInfo): void {
    this.#names.set(info.streamId, info.name);
    const source = info.name;
    this.#queuedRecords.set({ source }, info.queuedRecords);
    this.#paused.set({ source }, info.paused === undefined ? 0 : 1);
    for (const [partition, records] of info.backlog ?? []) {
      this.#backlog.set({ source, partition }, records);
    }
    if (info.rateLimit === undefined) {
      this.#rateLimit.remove({ source });
    } else {
      this.#rateLimit.set({ source }, info.rateLimit);
    }
  }

  onDeadLetters(info: DeadLettersInfo): void {
    this.#deadLetters.inc(info.records);
  }

  onReceiverStarted(info: ReceiverInfo): void {
    this.#names.set(info.streamId, info.name);
  }

  onReceiverError(info: ReceiverInfo): void {
    this.#names.set(info.streamId, info.name);
    this.#sourceErrors.inc({ source: info.name });
  }

  #nameOf(inputId: number): string {
    return this.#names.get(inputId) ?? `input-${inputId}`;
  }
}
