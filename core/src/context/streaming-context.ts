import { ClusterMember } from "../cluster/cluster-member.js";
import { CLUSTER_MEMBERSHIP } from "../connector/cluster-membership.js";
import type { ConnectorPlugin, SinkPlugin, SourcePlugin } from "../connector/plugin.js";
import type { SourceRecord } from "../connector/records.js";
import { SOURCE_DEAD_LETTERS } from "../connector/tokens.js";
import { createConnectorRegistry } from "../connectors/default-registry.js";
import type { DStream } from "../dstream/dstream.js";
import { DStreamGraph } from "../dstream/dstream-graph.js";
import { OPERATORS, UnionDStream } from "../dstream/operators.js";
import { ParallelCollection, type PartitionKeeper } from "../dstream/parallel-collection.js";
import { RecordFailures } from "../dstream/record-failures.js";
import { isStatefulOperator } from "../dstream/stateful-operator.js";
import { countReaders } from "../dstream/stream-readers.js";
import type { StreamScope } from "../dstream/stream-scope.js";
import { SluiceError } from "../errors/sluice-error.js";
import { DriverExecution } from "../execution/driver-execution.js";
import type { ExecutorJobSpec } from "../execution/executor-job-spec.js";
import { warnExecutors } from "../execution/executor-log.js";
import type { RateControlOptions } from "../flow/rate-controller.js";
import {
  type BinaryRecordsStreamOptions,
  binaryFileRecords,
} from "../input/binary-records-dstream.js";
import { type TextFileStreamOptions, textFileLines } from "../input/file-input-dstream.js";
import { LineTextDStream } from "../input/line-text-dstream.js";
import { type QueueElement, QueueInputDStream } from "../input/queue-input-dstream.js";
import { receivedValue } from "../input/received-record.js";
import type { Receiver } from "../input/receiver.js";
import { ReceiverInputDStream } from "../input/receiver-input-dstream.js";
import { chooseKernels } from "../kernels/load-kernels.js";
import { startUi, type UiHandle } from "../observability/start-ui.js";
import { closeConnectorsOf, connectorsOf } from "../plugins/connectors-of.js";
import { ContextConnectors } from "../plugins/context-connectors.js";
import { addSinkOutput } from "../plugins/sink-output.js";
import { createSourceStream, type SourceStreamOptions } from "../plugins/source-input-dstream.js";
import type { RecoveryCandidates } from "../recovery/checkpoint-coordinator.js";
import { CheckpointCoordinator } from "../recovery/checkpoint-coordinator.js";
import {
  type CheckpointOptions,
  type CheckpointSettings,
  resolveCheckpointOptions,
} from "../recovery/checkpoint-options.js";
import { dropCheckpointsAheadOfCommits } from "../recovery/commit-screen.js";
import { type DeadLetterOptions, DeadLetterOutput } from "../recovery/dead-letters.js";
import { prepareContext } from "../recovery/get-or-create.js";
import type { RecoveryReport } from "../recovery/recovery-report.js";
import { installStopOnSignals, type StopOnSignalsOptions } from "../recovery/stop-on-signals.js";
import { type Clock, SystemClock } from "../scheduler/clock.js";
import type { ContextState } from "../scheduler/context-state.js";
import { InputInfoTracker } from "../scheduler/input-info-tracker.js";
import { JobGenerator } from "../scheduler/job-generator.js";
import { JobScheduler } from "../scheduler/job-scheduler.js";
import type { StreamingListener } from "../scheduler/listener.js";
import { ListenerBus } from "../scheduler/listener-bus.js";
import { Progress } from "../scheduler/progress.js";
import { type Duration, parseDuration } from "../util/duration.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import {
  type ResolvedContextOptions,
  resolveContextOptions,
  type StreamingContextOptions,
} from "./context-options.js";
import type { KeyedPart, StartPlan } from "./keyed-part.js";
import { refuseOverlappingPairedBatches } from "./paired-sinks.js";

/** Options of `queueStream`. */
export interface QueueStreamOptions<T> {
  /** Take one queued element per batch (default), or every element queued. */
  readonly oneAtATime?: boolean;
  /** The batch once the queue is empty (default: an empty batch). */
  readonly defaultBatch?: ReadonlyArray<T>;
}

/** Options of `socketTextStream`, the built-in `socket` source read as strings. */
export interface SocketTextStreamOptions {
  /**
   * Wait between two connection attempts that fail, instead of the source session's backoff
   * (100 ms doubling to 30 s). A connection the server closes is reconnected at once.
   */
  readonly restartDelayMs?: number;
  /** A longer line stops the input with `SLUICE_INVALID_RECORD` (default 1 MiB). */
  readonly maxLineBytes?: number;
  /** When the server closes the connection: reconnect (default), or end the input. */
  readonly onServerClose?: "reconnect" | "end";
  /** The source's id in logs, errors and the checkpoint (default `source:socket#<n>`). */
  readonly id?: string;
}

/** Options of `stop`. */
export interface StopOptions {
  /**
   * Stop receiving, then process every batch of data already received before stopping (default
   * false: stop after the batch in progress, dropping queued batches).
   */
  readonly graceful?: boolean;
  /**
   * Without `graceful`: how long a sink write of the batch in progress may still wait for its
   * server's answer before it gives up (default 2 s, as Spark waits for the jobs running before
   * it interrupts them; 0: at once). Retries and reconnects end at once.
   */
  readonly interruptAfter?: Duration;
}

/** How long a stop without draining lets a write wait for its server's answer, by default. */
const DEFAULT_INTERRUPT_AFTER_MS = 2_000;

/** The longest delay a timer can wait (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

interface TerminationWaiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The entry point of a streaming job, as in Spark: it cuts time into batches of
 * `batchInterval`, creates input streams, and runs the output operations of every batch.
 * Lifecycle: `INITIALIZED` (build the job) → `start()` → `ACTIVE` → `stop()` → `STOPPED`.
 *
 * @example
 * const ctx = new StreamingContext({ batchInterval: "1s", appName: "word-count" });
 * ctx.socketTextStream("localhost", 9999)
 *   .flatMap((line) => line.split(" "))
 *   .map((word) => [word, 1])
 *   .reduceByKey("sum")
 *   .print();
 * await ctx.start();
 * await ctx.awaitTermination();
 */
export class StreamingContext {
  private readonly options: ResolvedContextOptions;
  private readonly clusterMember: ClusterMember | undefined;
  /** Which copy of the job the outputs write as (`scope.outputWriter()`). */
  private writer: string | undefined;
  /**
   * What every stream of this context shares (batch interval, clock, listeners, kernels, graph,
   * connectors, ...), handed to each stream it creates. For custom inputs and operators; jobs
   * rarely need it.
   */
  readonly scope: StreamScope;
  /** The clock batches tick on. */
  readonly clock: Clock;
  private readonly graph = new DStreamGraph();
  private readonly listenerBus = new ListenerBus();
  private readonly inputInfoTracker = new InputInfoTracker();
  private readonly progress = new Progress();
  private readonly scheduler: JobScheduler;
  private readonly generator: JobGenerator;
  private currentState: ContextState = "INITIALIZED";
  private readonly streams = new Map<number, DStream<unknown>>();
  /** Readers per stream, counted for a graph of `streams` streams (operations only add). */
  private readers: { streams: number; counts: ReadonlyMap<DStream<unknown>, number> } | undefined;
  private jobSpec: ExecutorJobSpec | undefined;
  private execution: DriverExecution | undefined;
  private reportedError: { error: unknown } | undefined;
  private terminationWaiters: TerminationWaiter[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** What a stop in progress is doing (for `unfinishedWork`). */
  private stopStep: string | undefined;
  private checkpointSettings: CheckpointSettings | undefined;
  private checkpointing: CheckpointCoordinator | undefined;
  private ui: UiHandle | undefined;
  private uiClosed: Promise<void> | undefined;
  /** The checkpoints `getOrCreate` found, restored at start. */
  private recovered: RecoveryCandidates | undefined;
  private keyedPart: KeyedPart | undefined;
  private startPlan: StartPlan | undefined;
  /** Collections from `parallelize` whose partitions the executors keep. */
  private readonly persisted = new Set<ParallelCollection<unknown>>();
  private lastCollectionId = 0;
  private readonly partitionKeeper: PartitionKeeper = {
    keep: (collection) => {
      this.persisted.add(collection);
      this.execution?.keep(collection);
    },
    release: (collection) => {
      this.persisted.delete(collection);
      this.execution?.release(collection);
    },
  };

  /**
   * Spark's `StreamingContext.getOrCreate`: when `directory` holds a checkpoint, the job resumes
   * from it — `create` still builds the graph (the job's code), and the checkpoint supplies the
   * batch time, every source's position and every stateful operator's state; the batches since
   * the checkpoint are run again first. Without a checkpoint, `create`'s context starts afresh
   * and checkpoints to `directory`. A damaged newest checkpoint is skipped (and reported) for the
   * previous one. Call `start()` on the result.
   *
   * @example
   * const ctx = await StreamingContext.getOrCreate("/var/lib/word-count", () => {
   *   const ctx = new StreamingContext({ batchInterval: "1s" });
   *   ctx.source("file", { directory: "in" }).map(toWord).countByValue().print();
   *   return ctx;
   * });
   * await ctx.start();
   */
  static getOrCreate(
    directory: string,
    create: () => StreamingContext | Promise<StreamingContext>,
    options?: CheckpointOptions,
  ): Promise<StreamingContext> {
    return prepareContext(directory, create, options).then(async ({ context, recovered }) => {
      context.recovered =
        recovered === undefined
          ? undefined
          : await dropCheckpointsAheadOfCommits(
              recovered,
              context.graph.inputs,
              connectorsOf(context).logger,
            );
      return context;
    });
  }

  constructor(options: StreamingContextOptions) {
    this.options = resolveContextOptions(options);
    if (this.options.checkpoint !== undefined) {
      this.checkpointSettings = resolveCheckpointOptions(this.options.checkpoint, {
        ...(options.checkpointInterval === undefined
          ? {}
          : { interval: options.checkpointInterval }),
      });
    }
    this.clock = options.clock ?? new SystemClock();
    const reportError = (error: unknown): void => this.reportError(error);
    const onProgress = (): void => this.progress.check();
    this.scheduler = new JobScheduler({
      clock: this.clock,
      graph: this.graph,
      listenerBus: this.listenerBus,
      inputInfoTracker: this.inputInfoTracker,
      concurrentJobs: this.options.concurrentJobs,
      reportError,
      reportCutOff: (time, failure) => this.reportCutOff(time, failure),
      onProgress,
      executionInfo: (time) => this.execution?.takeMetrics(time),
      commitBatch: (time, failure) => this.checkpointing?.commitBatch(time, failure),
      afterOutputs: (time) => this.scope.recordFailures.activeDeadLetters()?.flush(time),
    });
    this.generator = new JobGenerator({
      clock: this.clock,
      batchInterval: this.options.batchInterval,
      graph: this.graph,
      scheduler: this.scheduler,
      inputInfoTracker: this.inputInfoTracker,
      reportError,
      onProgress,
      recordBatch: (time) => this.checkpointing?.recordBatch(time),
    });
    let kernels = options.kernels;
    const state = (): ContextState => this.currentState;
    const member =
      this.options.cluster === undefined ? undefined : new ClusterMember(this.options.cluster);
    this.clusterMember = member;
    this.writer = member === undefined ? undefined : `process-${member.processId}`;
    this.scope = {
      context: this,
      appName: this.options.appName,
      outputWriter: () => this.writer,
      batchInterval: this.options.batchInterval,
      backpressure: this.options.backpressure,
      defaultParallelism: this.options.defaultParallelism,
      clock: this.clock,
      graph: this.graph,
      listenerBus: this.listenerBus,
      inputInfoTracker: this.inputInfoTracker,
      // Chosen on first use, so a context that never computes a batch never loads the binding.
      get kernels() {
        kernels ??= chooseKernels().kernels;
        return kernels;
      },
      operators: OPERATORS,
      addSinkOutput,
      recordFailures: new RecordFailures(this.listenerBus, state),
      connectors: new ContextConnectors(() => {
        const registry = createConnectorRegistry();
        // Sources never see their context: they find the cluster in their registry.
        if (member !== undefined) registry.register(CLUSTER_MEMBERSHIP, member);
        return registry;
      }),
      state,
      assertCanAddOperations: () => this.assertCanAddOperations(),
      registerStream: (stream) => {
        const id = this.streams.size;
        this.streams.set(id, stream);
        return id;
      },
      streams: this.streams,
      readersOf: (stream) => this.readerCounts().get(stream) ?? 0,
      setJob: (job) => {
        this.assertCanAddOperations();
        this.jobSpec = job;
      },
      job: () => this.jobSpec,
      execution: () => this.execution,
      reportError,
      firstError: () => this.reportedError?.error,
      awaitProcessed: (time) =>
        this.progress.until(
          () =>
            this.currentState === "STOPPED" ||
            (this.generator.lastGeneratedTime >= time && !this.scheduler.hasUnfinishedUpTo(time)),
        ),
    };
  }

  /**
   * Where the UI of the `ui` option listens while the context runs (`metrics` appended for
   * Prometheus); undefined without that option, before `start()` resolves and after `stop()`.
   *
   * @example
   * const ctx = new StreamingContext({ batchInterval: "1s", ui: { port: 0 } });
   * await ctx.start();
   * console.error(`UI at ${ctx.uiUrl}`);
   */
  get uiUrl(): string | undefined {
    return this.uiClosed === undefined ? this.ui?.url : undefined;
  }

  /**
   * This process's place in its cluster (the `cluster` option); undefined outside cluster mode.
   *
   * @example
   * ctx.cluster?.onPartitions((partitions) => console.error(partitions.join(", ")));
   */
  get cluster(): ClusterMember | undefined {
    return this.clusterMember;
  }

  /** The batch interval in milliseconds. */
  get batchInterval(): number {
    return this.options.batchInterval;
  }

  /** The application's name. */
  get appName(): string {
    return this.options.appName;
  }

  /** The `master` given, if any. */
  get master(): string | undefined {
    return this.options.master;
  }

  /** The checkpoint directory given, if any. */
  get checkpointDirectory(): string | undefined {
    return this.checkpointSettings?.directory;
  }

  /**
   * What the job restored from its checkpoint and what it could not (state dropped because an
   * operator was renamed or changed, replays that differ): set once a context from
   * `getOrCreate` has started from a checkpoint, else `undefined`.
   *
   * @example
   * await ctx.start();
   * if (ctx.recoveryReport?.droppedState.length) console.warn(ctx.recoveryReport.droppedState);
   */
  get recoveryReport(): RecoveryReport | undefined {
    return this.checkpointing?.report;
  }

  /** Flow control of connector sources, as given (see `StreamingContextOptions.backpressure`). */
  get backpressure(): RateControlOptions {
    return this.options.backpressure;
  }

  /** Partitions of shuffles when an operation names none. */
  get defaultParallelism(): number {
    return this.options.defaultParallelism;
  }

  /**
   * True when the context has inputs and every one of them reached its end with nothing left
   * for a batch (bounded sources such as a file replay with an end marker).
   *
   * @example
   * ctx.addListener({ onBatchCompleted: () => ctx.inputsEnded && void ctx.stop({ graceful: true }) });
   */
  get inputsEnded(): boolean {
    const inputs = this.graph.inputs;
    return (
      inputs.length > 0 && inputs.every((input) => input.hasEnded() && !input.hasPendingData())
    );
  }

  /**
   * Where the context is in its life: `INITIALIZED`, `ACTIVE` or `STOPPED`.
   *
   * @example
   * if (ctx.state === "ACTIVE") await ctx.stop({ graceful: true });
   */
  get state(): ContextState {
    return this.currentState;
  }

  // ------------------------------------------------------------------------------------- inputs

  /**
   * A stream fed from an array used as a queue: each batch takes the next element (one array of
   * records), or every queued element with `oneAtATime: false`; batches after the end of the
   * queue are empty. Push more elements while the context runs.
   *
   * @example
   * const queue: number[][] = [[1, 2, 3], [4, 5]];
   * ctx.queueStream(queue).count().print(); // 3, then 2, then 0 ...
   */
  queueStream<T>(queue: QueueElement<T>[], options: QueueStreamOptions<T> = {}): DStream<T> {
    return new QueueInputDStream(this, queue, options.oneAtATime ?? true, options.defaultBatch);
  }

  /**
   * `records` cut into `numSlices` partitions (default: the context's default parallelism), to
   * push into a `queueStream` (Spark's `sc.parallelize`). Call `persist()` on it to keep its
   * partitions on the executors under `local[N]`, as Spark's cached RDD blocks are, so the
   * batches that take it do not ship its records from the driver each time.
   *
   * @example
   * const lines = ctx.parallelize(fileLines, 2).persist();
   * ctx.queueStream([lines, lines, lines]).flatMap((line) => line.split(" ")).countByValue().print();
   */
  parallelize<T>(
    records: ReadonlyArray<T>,
    numSlices: number = this.options.defaultParallelism,
  ): ParallelCollection<T> {
    if (!Array.isArray(records)) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `parallelize: records must be an array; got ${records === null ? "null" : typeof records}`,
      );
    }
    if (!Number.isInteger(numSlices) || numSlices < 1) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `parallelize: numSlices must be an integer of at least 1, got ${String(numSlices)}`,
      );
    }
    this.lastCollectionId += 1;
    return new ParallelCollection(
      this.scope,
      this.lastCollectionId,
      sliceIntoPartitions(records, numSlices),
      this.partitionKeeper,
    );
  }

  /**
   * A stream of the UTF-8 lines received from a TCP server at `host:port`: the built-in `socket`
   * source (`ctx.source("socket", { host, port })`) decoded to strings, one record per line (a line
   * ends at `\n`; a `\r` before it is dropped). Flow control, the write-ahead log and recovery are
   * the source's; the connection is retried when it fails or ends.
   *
   * @example
   * const lines = ctx.socketTextStream("localhost", 9999);
   */
  socketTextStream(
    host: string,
    port: number,
    options: SocketTextStreamOptions = {},
  ): DStream<string> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `socketTextStream: port must be an integer in 1..65535, got ${String(port)}`,
      );
    }
    const { restartDelayMs, id, ...config } = options;
    if (
      restartDelayMs !== undefined &&
      (!Number.isInteger(restartDelayMs) || restartDelayMs < 0 || restartDelayMs > MAX_TIMER_MS)
    ) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `socketTextStream: restartDelayMs must be an integer in 0..${MAX_TIMER_MS}, got ${String(restartDelayMs)}`,
      );
    }
    const records = createSourceStream(
      this,
      "socket",
      { host, port, ...config },
      {
        ...(id === undefined ? {} : { id }),
        // The receiver's fixed restart delay, as a backoff that does not grow.
        ...(restartDelayMs === undefined
          ? {}
          : {
              backoff: {
                initialDelayMs: restartDelayMs,
                maxDelayMs: restartDelayMs,
                multiplier: 1,
                jitter: 0,
              },
            }),
      },
    );
    // The source already cut the lines; they become strings where a function first reads them.
    return new LineTextDStream(records, { by: "source" });
  }

  /**
   * A stream of the lines of the files moved into `directory` (complete, as with Spark): the
   * built-in `file` source in `lines` mode decoded to strings, one partition per file. Files
   * already there when the job first starts are skipped unless `newFilesOnly: false`. Lines end as
   * in `socketTextStream`; the source's byte offsets make it recoverable.
   *
   * @example
   * const lines = ctx.textFileStream("/data/incoming");
   */
  textFileStream(directory: string, options: TextFileStreamOptions = {}): DStream<string> {
    return textFileLines(this, directory, options);
  }

  /**
   * A stream of the fixed-length records of the files moved into `directory` (Spark's
   * `binaryRecordsStream`): the built-in `file` source in `binary` mode, each record a
   * `Uint8Array` of `recordLength` bytes, one partition per file; recoverable by byte offsets.
   * Trailing bytes short of a record are an invalid record (`SLUICE_INVALID_RECORD`).
   *
   * @example
   * const readings = ctx.binaryRecordsStream("/data/readings", 16);
   */
  binaryRecordsStream(
    directory: string,
    recordLength: number,
    options: BinaryRecordsStreamOptions = {},
  ): DStream<Uint8Array> {
    return binaryFileRecords(this, directory, recordLength, options);
  }

  /**
   * A stream fed by a custom `Receiver`: what it stores between two batch ticks forms the next
   * batch.
   *
   * @example
   * const ticks = ctx.receiverStream(new TickerReceiver());
   */
  receiverStream<T>(receiver: Receiver<T>): DStream<T> {
    return new ReceiverInputDStream(this, receiver).map((record) => receivedValue<T>(record));
  }

  /**
   * A stream of the records a connector source reads: a built-in (`"file"`, `"socket"`), a
   * plugin registered with `connectorsOf(ctx)`, or a plugin object. The config is validated now.
   *
   * @example
   * const orders = ctx.source("file", { directory: "incoming", format: "jsonl" });
   */
  source(
    source: string | SourcePlugin,
    config: unknown,
    options?: SourceStreamOptions,
  ): DStream<SourceRecord> {
    return createSourceStream(this, source, config, options);
  }

  /**
   * Registers connector plugins with this context, so `source(name, …)` and `sink(name, …)`
   * find them by name. Returns the context for chaining.
   *
   * @example
   * ctx.use(redisSource, redisSink).source("redis", { url: "redis://127.0.0.1" });
   */
  use(...plugins: ConnectorPlugin[]): this {
    this.assertCanAddOperations();
    connectorsOf(this).use(...plugins);
    return this;
  }

  /**
   * Loads connector plugins from installed npm packages by name (each package exports one or
   * more plugins), then registers them as `use` does. Fails naming the package when it is
   * missing or exports no plugin.
   *
   * @example
   * await ctx.loadPlugins(["@acme/sluice-redis"]);
   */
  async loadPlugins(packageNames: readonly string[]): Promise<this> {
    this.assertCanAddOperations();
    await connectorsOf(this).loadPlugins(packageNames);
    return this;
  }

  /**
   * A stream of the records of all `streams`, batch by batch (they must share a slide duration).
   *
   * @example
   * const all = ctx.union(a, b, c);
   */
  union<T>(...streams: DStream<T>[]): DStream<T> {
    return new UnionDStream(streams);
  }

  // ---------------------------------------------------------------------------------- lifecycle

  /**
   * Keeps every stream's batches for at least `duration` (for `slice` and late lookups). Call
   * before `start`.
   *
   * @example
   * ctx.remember("1m");
   */
  remember(duration: Duration): void {
    this.assertCanAddOperations();
    this.graph.rememberDuration = parseDuration(duration, "remember");
  }

  /**
   * Checkpoints to `directory` (Spark's `ssc.checkpoint`): after every batch's outputs (or every
   * `interval`), the state of the stateful operators, where every source stands, and the batches
   * in flight are written atomically, and only then are sources acknowledged; sources that
   * cannot replay go through a write-ahead log. Resume after a crash with `getOrCreate`. Call
   * before `start`.
   *
   * @example
   * ctx.checkpoint("/var/lib/word-count", { interval: "10s" });
   */
  checkpoint(directory: string, options: CheckpointOptions = {}): void {
    this.assertCanAddOperations();
    this.checkpointSettings = resolveCheckpointOptions(directory, options);
  }

  /**
   * Sends records that an operation (`map`, `flatMap`, `filter`, `mapValues`, `flatMapValues`)
   * throws on — after 3 attempts — or that a sink refuses by index, to a dead-letter sink
   * instead of failing their batch: one JSON line per record with the error, the operation, the
   * batch time and the source partition and offset (when the operation had the source record).
   * They are written at the end of their batch, before its checkpoint. Without it such a record
   * fails the batch with `SLUICE_RECORD_FAILED`. Records a source cannot read (the `file`
   * source's malformed rows under `onInvalidRecord: "skip"` or `"deadLetter"`) go there too.
   * Call before `start`.
   *
   * @example
   * ctx.deadLetters("file", { directory: "dead-letters", format: "jsonl" });
   */
  deadLetters(sink: string | SinkPlugin, config: unknown, options?: DeadLetterOptions): void {
    this.assertCanAddOperations();
    const output = new DeadLetterOutput(this.scope, sink, config, options);
    this.scope.recordFailures.deadLetters = output;
    // Sources never see their context: they find the dead letters in their registry.
    connectorsOf(this).register(SOURCE_DEAD_LETTERS, output);
  }

  /**
   * Stops the job gracefully on SIGTERM or SIGINT and exits 0 (a second signal exits at once,
   * losing nothing: the checkpoint and the write-ahead log cover it). Returns a function that
   * removes the handlers. See `StopOnSignalsOptions` for the timeout and exit codes.
   *
   * @example
   * ctx.stopOnSignals({ timeout: "20s" });
   * await ctx.start();
   */
  stopOnSignals(options?: StopOnSignalsOptions): () => void {
    return installStopOnSignals(this, options);
  }

  /**
   * Registers a listener for batch, output-operation and receiver events.
   *
   * @example
   * ctx.addListener({ onBatchCompleted: (info) => metrics.observe(info.totalDelay) });
   */
  addListener(listener: StreamingListener): void {
    this.listenerBus.add(listener);
  }

  /**
   * Unregisters a listener.
   *
   * @example
   * ctx.removeListener(listener);
   */
  removeListener(listener: StreamingListener): void {
    this.listenerBus.remove(listener);
  }

  /**
   * Starts the job: inputs start receiving and the first batch comes one batch interval after
   * the last multiple of the interval. Throws at once (a `SluiceError`) when the context was
   * started or stopped before, or has no output operation; the promise resolves once the inputs
   * are started.
   *
   * @example
   * await ctx.start();
   */
  start(): Promise<void> {
    if (this.currentState === "ACTIVE") {
      throw new SluiceError("SLUICE_ILLEGAL_STATE", "StreamingContext has already been started");
    }
    if (this.currentState === "STOPPED") {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "StreamingContext has already been stopped and cannot be started again; create a new one",
      );
    }
    if (this.graph.outputs.length === 0) {
      throw new SluiceError(
        "SLUICE_NO_OUTPUT_OPERATIONS",
        "no output operations registered, so nothing to execute: add foreachBatch, print or saveAsTextFiles before start()",
      );
    }
    if (this.clusterMember !== undefined && this.keyedPart === undefined) {
      // Each process sees only its share of the input: state across batches would be partial.
      const stateful = this.statefulStreams();
      if (stateful.length > 0) {
        throw new SluiceError(
          "SLUICE_INVALID_CONFIG",
          `in cluster mode, state across batches (${stateful.map((stream) => `${stream.operatorName} (stream ${stream.id})`).join(", ")}) runs as keyed tasks, which are rebuilt from the job's module: define the job with defineJob and run it with \`sluice run --cluster\` or createJobContext (docs/cluster.md)`,
        );
      }
    }
    if (
      (this.keyedPart !== undefined || this.startPlan !== undefined) &&
      this.checkpointSettings !== undefined
    ) {
      // The keyed part's state and positions live in the exchange (the changelog and the
      // markers); a checkpoint folder per process would restore state another process now owns.
      throw new SluiceError(
        "SLUICE_INVALID_CONFIG",
        `a cluster job with state across batches keeps that state in its keyed exchange (the changelog topic), not in a checkpoint folder: remove ctx.checkpoint("${this.checkpointSettings.directory}") and the checkpoint option from the job (docs/cluster.md)`,
      );
    }
    refuseOverlappingPairedBatches(this.graph.inputs, this.options.concurrentJobs);
    const checkpointSettings = this.settingsWithStreamIntervals();
    const interval = this.options.batchInterval;
    let startTime =
      this.startPlan?.startTime ?? (Math.floor(this.clock.now() / interval) + 1) * interval;
    let zeroTime = this.startPlan?.zeroTime ?? startTime - interval;
    if (checkpointSettings !== undefined) {
      this.checkpointing = new CheckpointCoordinator(
        {
          appName: this.appName,
          batchInterval: interval,
          inputs: this.graph.inputs,
          outputs: this.graph.outputs,
          logger: connectorsOf(this).logger,
          reportError: (error) => this.reportError(error),
        },
        checkpointSettings,
        this.recovered,
        {
          hasUnfinishedBefore: (time) => this.scheduler.hasUnfinishedUpTo(time - 1),
          isBehind: (time) => this.clock.now() >= time + 2 * interval,
        },
      );
      ({ zeroTime, startTime } = this.checkpointing.plan(this.clock.now()));
    }
    this.graph.start(zeroTime);
    this.startPlan?.restore();
    this.currentState = "ACTIVE";
    this.starting = this.startInputsAndGenerator(startTime);
    return this.starting;
  }

  /**
   * Runs a cluster job's keyed part beside this context (`createJobContext` does this in
   * cluster mode for a job with state across batches); call before `start()`.
   *
   * @example
   * ctx.useKeyedPart(keyedPart);
   */
  useKeyedPart(part: KeyedPart): void {
    this.assertCanAddOperations();
    this.keyedPart = part;
  }

  /**
   * Starts the batches at a planned zero time and first batch instead of the clock's next
   * multiple of the interval (a cluster task; see `StartPlan`); call before `start()`.
   *
   * @example
   * ctx.planStart({ zeroTime: 0, startTime: 5000, restore: () => undefined });
   */
  planStart(plan: StartPlan): void {
    this.assertCanAddOperations();
    this.startPlan = plan;
  }

  /**
   * Names the copy of the job this context's outputs write as (a cluster's keyed task:
   * `keyed-<n>`), which sinks include where they name what they write by batch time and
   * partition (`WriteBatchContext.writer`); call before `start()`.
   *
   * @example
   * ctx.writeAs("keyed-3");
   */
  writeAs(writer: string): void {
    this.assertCanAddOperations();
    this.writer = writer;
  }

  // The checkpoint settings with the intervals streams asked for (`DStream.checkpoint`): the
  // job checkpoints at the shortest of those and its own. A keyed task or a cluster process
  // keeps its state elsewhere (the keyed exchange, the group's offsets) and needs no folder.
  private settingsWithStreamIntervals(): CheckpointSettings | undefined {
    const settings = this.checkpointSettings;
    const asking = [...this.streams.values()].filter(
      (stream) => stream.checkpointInterval !== undefined,
    );
    if (asking.length === 0) return settings;
    if (settings === undefined) {
      if (this.clusterMember !== undefined || this.startPlan !== undefined) return undefined;
      const first = asking[0] as DStream<unknown>;
      throw new SluiceError(
        "SLUICE_INVALID_CONFIG",
        `${first.operatorName} (stream ${first.id}) asks for its state to be checkpointed every ${first.checkpointInterval} ms (checkpoint(interval)), but the job has no checkpoint folder: call ctx.checkpoint(directory) before start(), or build the job with StreamingContext.getOrCreate(directory, create)`,
      );
    }
    const shortest = Math.min(
      ...asking.map((stream) => stream.checkpointInterval as number),
      settings.intervalMs ?? Number.POSITIVE_INFINITY,
    );
    return {
      ...settings,
      intervalMs: shortest,
      catchUpIntervalMs: Math.max(settings.catchUpIntervalMs, shortest),
    };
  }

  // Stateful operators an output reads (a stream nothing outputs never runs).
  private statefulStreams(): DStream<unknown>[] {
    const seen = new Set<DStream<unknown>>();
    const pending: DStream<unknown>[] = [...this.graph.outputs];
    while (pending.length > 0) {
      const stream = pending.pop() as DStream<unknown>;
      if (seen.has(stream)) continue;
      seen.add(stream);
      pending.push(...stream.dependencies);
    }
    return [...seen].filter(isStatefulOperator).sort((a, b) => a.id - b.id);
  }

  /**
   * Stops the context. With `graceful: true`, inputs stop receiving, every batch of data already
   * received is processed (after a restart, also every batch the earlier run recorded and this
   * one replays), then the context stops; otherwise it stops after the batch in progress, whose
   * sinks stop retrying (a batch cut off that way fails and is processed again, without being
   * reported as the job's error). Stopping twice, or before start, is allowed.
   *
   * @example
   * process.on("SIGTERM", () => void ctx.stop({ graceful: true }));
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.currentState !== "ACTIVE") {
      this.markStopped();
      return closeConnectorsOf(this).finally(() => this.closeUi());
    }
    // Connectors close after the last batch; every close is attempted even when one fails.
    const { interruptAfter } = options;
    const interruptAfterMs =
      interruptAfter === undefined
        ? DEFAULT_INTERRUPT_AFTER_MS
        : interruptAfter === 0
          ? 0
          : parseDuration(interruptAfter, "stop: interruptAfter");
    this.stopping = this.stopActive(options.graceful ?? false, interruptAfterMs)
      .then(() => {
        this.stopStep = "closing the connectors";
        return closeConnectorsOf(this);
      })
      .finally(() => this.closeUi());
    return this.stopping;
  }

  /**
   * What the context is still busy with, one line each: while stopping, the step of the stop;
   * then every batch not done (running with its unfinished output operations, queued, or
   * committing). Empty when idle. A stop that takes too long says this.
   *
   * @example
   * for (const line of ctx.unfinishedWork()) console.error(line);
   */
  unfinishedWork(): string[] {
    const step = this.stopStep === undefined ? [] : [`stop: ${this.stopStep}`];
    return [...step, ...this.scheduler.unfinishedWork()];
  }

  /**
   * Resolves when the context stops; rejects with the first error a batch or input reported.
   *
   * @example
   * await ctx.awaitTermination();
   */
  awaitTermination(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.reportedError !== undefined) reject(this.reportedError.error);
      else if (this.currentState === "STOPPED") resolve();
      else this.terminationWaiters.push({ resolve, reject });
    });
  }

  /**
   * Resolves `true` when the context stops within `timeoutMs` of wall time, `false` otherwise;
   * rejects with the first error reported.
   *
   * @example
   * const stopped = await ctx.awaitTerminationOrTimeout(10_000);
   */
  awaitTerminationOrTimeout(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.reportedError !== undefined) {
        reject(this.reportedError.error);
        return;
      }
      if (this.currentState === "STOPPED") {
        resolve(true);
        return;
      }
      const waiter: TerminationWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => {
          this.terminationWaiters = this.terminationWaiters.filter((other) => other !== waiter);
          resolve(false);
        },
        Math.max(0, timeoutMs),
      );
      this.terminationWaiters.push(waiter);
    });
  }

  private async startInputsAndGenerator(startTime: number): Promise<void> {
    try {
      // Listening before anything runs, the UI sees the first batch.
      if (this.options.ui !== undefined) this.ui = await startUi(this, this.options.ui);
      await this.startExecutors();
    } catch (error) {
      this.reportError(error);
      this.markStopped();
      throw error;
    }
    try {
      await this.checkpointing?.prepare();
    } catch (error) {
      this.reportError(error);
      await this.stopExecutors();
      this.markStopped();
      throw error;
    }
    try {
      for (const input of this.graph.inputs) await input.start();
    } catch (error) {
      const failure = new SluiceError(
        "SLUICE_INPUT_FAILED",
        `an input failed to start: ${String(error)}`,
        {
          cause: error,
        },
      );
      this.reportError(failure);
      await this.stopInputs();
      await this.checkpointing?.releaseFolder();
      await this.stopExecutors();
      this.markStopped();
      throw failure;
    }
    this.generator.start(startTime);
    this.listenerBus.post("onStreamingStarted", { time: startTime });
    try {
      await this.keyedPart?.start();
    } catch (error) {
      this.reportError(error);
      throw error;
    }
  }

  private async stopActive(graceful: boolean, interruptAfterMs: number): Promise<void> {
    this.stopStep = "waiting for the start to finish";
    await this.starting?.catch(() => undefined);
    // The keyed tasks stop first: what they have not committed, the partition's next owner redoes.
    this.stopStep = "stopping the keyed tasks";
    await this.keyedPart?.stop();
    const inputs = this.graph.inputs;
    if (graceful) {
      // The batches an earlier run recorded and this one replays are received data too, even
      // without a record: their outputs may have been cut off by the crash, half written. They
      // are in the past (unless the clock went back), so the generator reaches them at once;
      // the inputs still run meanwhile, since a replayable source delivers their records again.
      const replayed = this.checkpointing?.report?.replayedBatches.at(-1);
      if (replayed !== undefined && replayed <= this.clock.now()) {
        this.stopStep = "replaying the batches the previous run recorded";
        await this.progress.until(() => this.generator.lastGeneratedTime >= replayed);
      }
      this.stopStep = "stopping the inputs";
      await this.stopInputs();
      this.stopStep = "running the batches of what was received";
      // Received data waits for a batch tick: let the generator tick until none is left.
      while (inputs.some((input) => input.hasPendingData())) {
        const target = this.generator.nextBatchTime;
        await this.progress.until(() => this.generator.lastGeneratedTime >= target);
      }
      await this.generator.stop();
      await this.progress.until(() => this.scheduler.isIdle());
    } else {
      this.stopStep = "finishing the batch in progress";
      // A sink reconnecting or retrying in the batch in progress gives up instead of waiting for
      // its server: the batch fails, and nothing of it is acknowledged or checkpointed. That
      // failure is the stop's doing, not the job's: it is logged, not reported.
      this.scheduler.cutOffRunning();
      this.scope.connectors.endRetries(interruptAfterMs);
      await this.generator.stop();
      this.scheduler.cancelQueued();
      await this.progress.until(() => this.scheduler.isIdle());
      this.stopStep = "stopping the inputs";
      await this.stopInputs();
    }
    // The last checkpoint covers every batch completed, and acknowledges what it holds.
    this.stopStep = "writing the last checkpoint";
    await this.checkpointing?.finish();
    this.stopStep = "stopping the executors";
    await this.stopExecutors();
    this.markStopped();
  }

  /**
   * With `local[N]`, N > 1: starts the executors and loads the job on them. A job built inline
   * (not from a module) cannot be rebuilt on executors, so it runs on the main thread, and the
   * context says so (a warning in the log and `onExecutorsUnavailable`).
   */
  private async startExecutors(): Promise<void> {
    const { executors, taskMaxFailures, batchInterval, defaultParallelism, appName } = this.options;
    if (executors <= 1) return;
    const job = this.jobSpec;
    if (job === undefined) {
      const reason =
        "the job was built inline, not loaded from a module (createJobContext, or a streamsJob for runBatches), so executors cannot rebuild it: running on the main thread as local[1]";
      warnExecutors({ requested: executors, master: this.options.master }, reason);
      this.listenerBus.post("onExecutorsUnavailable", { requested: executors, reason });
      return;
    }
    this.execution = await DriverExecution.start({
      scope: this.scope,
      job,
      settings: { batchInterval, defaultParallelism, appName },
      threads: executors,
      pool: this.options.executorPool,
      taskMaxFailures,
    });
    for (const collection of this.persisted) this.execution.keep(collection);
    this.listenerBus.post("onExecutorsStarted", {
      executors: this.execution.executors,
      threadIds: this.execution.threadIds(),
      module: job.module,
    });
  }

  private async stopExecutors(): Promise<void> {
    const execution = this.execution;
    this.execution = undefined;
    await execution?.close();
  }

  private async stopInputs(): Promise<void> {
    for (const input of this.graph.inputs) {
      try {
        await input.stop();
      } catch (error) {
        this.reportError(
          new SluiceError(
            "SLUICE_INPUT_FAILED",
            `input ${input.inputId} failed to stop: ${String(error)}`,
            {
              cause: error,
            },
          ),
        );
      }
    }
  }

  private markStopped(): void {
    this.currentState = "STOPPED";
    void this.closeUi();
    const waiters = this.terminationWaiters;
    this.terminationWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    this.progress.check();
  }

  // Once: every way to the STOPPED state closes the UI, and stop() waits for it.
  private closeUi(): Promise<void> {
    this.uiClosed ??= this.ui?.close().catch(() => undefined) ?? Promise.resolve();
    return this.uiClosed;
  }

  // A batch the stop cut off is processed again (from the checkpoint, or as its source delivers
  // the unacknowledged records again); awaitTermination still resolves.
  private reportCutOff(time: number, failure: unknown): void {
    connectorsOf(this).logger.warn(
      { err: failure, batchTime: time },
      "the stop without draining cut off this batch: it failed, nothing of it was acknowledged, and its input is processed again",
    );
  }

  private reportError(error: unknown): void {
    this.reportedError ??= { error };
    const waiters = this.terminationWaiters;
    this.terminationWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  // Counted again only when the graph grew: a graph never loses streams.
  private readerCounts(): ReadonlyMap<DStream<unknown>, number> {
    if (this.readers?.streams !== this.streams.size) {
      this.readers = { streams: this.streams.size, counts: countReaders(this.streams.values()) };
    }
    return this.readers.counts;
  }

  private assertCanAddOperations(): void {
    if (this.currentState === "ACTIVE") {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "adding new inputs, transformations, and output operations after starting a context is not supported",
      );
    }
    if (this.currentState === "STOPPED") {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "adding new inputs, transformations, and output operations after stopping a context is not supported",
      );
    }
  }
}

declare module "../dstream/stream-scope.js" {
  /** `stream.context` is the `StreamingContext` the stream was built on. */
  interface StreamOwner extends StreamingContext {}
}
