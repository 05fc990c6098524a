import type { Logger } from "pino";
import type { BackoffPolicy } from "../connector/backoff.js";
import type { SourcePlugin } from "../connector/plugin.js";
import type { SourceRecord } from "../connector/records.js";
import { type ReadResult, type SourceDelivery, sourceDelivery } from "../connector/source.js";
import { Wakeup } from "../connector/wakeup.js";
import type { Batch } from "../dstream/batch.js";
import { ColumnarBatch, type ColumnarPartition } from "../dstream/columnar-batch.js";
import type { DStream } from "../dstream/dstream.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { hasErrorCode, SluiceError } from "../errors/sluice-error.js";
import type { RateControlOptions } from "../flow/rate-controller.js";
import { SourceFlowControl } from "../flow/source-flow-control.js";
import { BlockBuffer, type ReceivedBlock } from "../input/block-buffer.js";
import { byteBatchesOf, sliceColumns } from "../input/byte-batches.js";
import { InputDStream } from "../input/input-dstream.js";
import type { SourceLedger } from "../recovery/source-ledger.js";
import type { BatchInfo, InputRateInfo, ReceiverInfo } from "../scheduler/listener.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import type { SourceInstance } from "./connector-instance.js";
import { pluginName } from "./context-connectors.js";
import { SourceSession } from "./source-session.js";

/** Options of `ctx.source(...)`. */
export interface SourceStreamOptions {
  /** The connector's id in logs and errors (default `source:<name>#<n>`). */
  readonly id?: string;
  /** Offsets a previous run checkpointed, per partition (replayable sources resume after them). */
  readonly committedOffsets?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /**
   * Records received but not yet processed (waiting for a batch or in a batch not yet finished)
   * before the source is paused until half of them were processed; default 1 000 000 (with
   * short records this bound, not memory, caps a source at about that many records per batch
   * interval: 100 000 held a socket of 67-byte lines to 200 000 lines/s at 500 ms batches).
   */
  readonly maxBufferedRecords?: number;
  /** The same bound in bytes (values and keys); default 256 MiB. */
  readonly maxBufferedBytes?: number;
  /** This source's flow control, instead of the context's `backpressure` (docs/flow-control.md). */
  readonly backpressure?: RateControlOptions;
  /** How reconnects back off; default 100 ms doubling to 30 s, ±20%. */
  readonly backoff?: BackoffPolicy;
  /**
   * Identifies a record across redeliveries (a RabbitMQ message id, an id the producer put in a
   * header). With checkpointing, a source that cannot replay may deliver again a record already in
   * the write-ahead log — its acknowledgement was lost with a crash or a connection — and such a
   * copy is dropped; without it that record is counted twice (at least once).
   */
  readonly recordId?: (record: SourceRecord) => string | undefined;
}

/**
 * The input stream of a connector `Source`: a pump reads from the source (connecting and
 * reconnecting as the contract says) into a buffer; each batch tick takes what was read since the
 * previous one; once every output of a batch ran, its reads are acknowledged (or nacked with the
 * batch's failure, so the source delivers them again).
 *
 * @example
 * const lines = ctx.source("socket", { host: "127.0.0.1", port: 9999 });
 */
export class SourceInputDStream extends InputDStream<SourceRecord> {
  readonly connector: SourceInstance;
  /** Identifies a record across redeliveries (see `SourceStreamOptions.recordId`). */
  readonly recordId: ((record: SourceRecord) => string | undefined) | undefined;
  private readonly buffer = new BlockBuffer<SourceRecord>();
  private readonly allocated = new Map<number, ReceivedBlock<SourceRecord>[]>();
  private readonly wakeup = new Wakeup();
  /** The rate limit and the bounded queue of this source (docs/flow-control.md). */
  readonly flow: SourceFlowControl;
  private readonly backoff: BackoffPolicy | undefined;
  private readonly logger: Logger;
  private lastAllocated = Number.NEGATIVE_INFINITY;
  private buffered = 0;
  private paused: "rate" | "queue" | undefined;
  private listening = false;
  private controller: AbortController | undefined;
  private pumping: Promise<void> | undefined;
  private ended = false;
  // With checkpointing: replays after a crash, offsets, and the write-ahead log.
  private ledger: SourceLedger | undefined;

  constructor(context: ScopeHolder, connector: SourceInstance, options: SourceStreamOptions) {
    super(context);
    this.connector = connector;
    this.recordId = options.recordId;
    this.backoff = options.backoff;
    this.logger = connectorLogger(context, connector.id);
    try {
      this.flow = new SourceFlowControl({
        batchIntervalMs: context.scope.batchInterval,
        rate: options.backpressure ?? context.scope.backpressure,
        maxQueuedRecords: options.maxBufferedRecords ?? 1_000_000,
        maxQueuedBytes: options.maxBufferedBytes ?? 256 * 1024 * 1024,
      });
    } catch (error) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `source ${connector.id}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  override get operatorName(): string {
    return `SourceInputDStream(${this.connector.id})`;
  }

  /** True when the source can deliver records again from an offset (else: write-ahead log). */
  get replayable(): boolean {
    return this.connector.plugin.capabilities.replayable;
  }

  /**
   * How the source's records survive a crash: checkpointed offsets, the write-ahead log, or
   * checkpointed offsets with acknowledgements that wait for output and checkpoint.
   */
  get delivery(): SourceDelivery {
    return sourceDelivery(this.connector.plugin.capabilities);
  }

  /**
   * Hands this input's recovery bookkeeping to it (by the checkpoint coordinator, before start).
   *
   * @example
   * input.attachLedger(new SourceLedger({ name: input.connector.id, ... }));
   */
  attachLedger(ledger: SourceLedger): void {
    this.ledger = ledger;
  }

  override async start(): Promise<void> {
    if (this.pumping !== undefined) return;
    await this.ledger?.beforeStart(this.connector.connector);
    if (!this.listening) {
      this.listening = true;
      this.scope.listenerBus.add({
        onBatchCompleted: (info) => this.batchProcessed(info),
      });
    }
    this.controller = new AbortController();
    this.pumping = this.startReading(this.controller.signal);
  }

  /**
   * Starts moving records from the source into this input; resolves once reading has ended.
   * Pulled sources run the pump (a loop of `read`s); an input whose records are handed over at
   * each batch tick instead overrides this and `beforeCut`.
   */
  protected startReading(signal: AbortSignal): Promise<void> {
    return this.pump(signal);
  }

  /**
   * Called at each batch tick before the batch is cut: the last chance to hand over records
   * that arrived before the tick (through `accept`). Pulled sources have nothing to do.
   */
  protected async beforeCut(_time: number): Promise<void> {}

  /** The signal that ends reading when the context stops receiving. */
  protected get readingSignal(): AbortSignal | undefined {
    return this.controller?.signal;
  }

  override async stop(): Promise<void> {
    this.controller?.abort(new Error("the StreamingContext stopped receiving"));
    this.wakeup.notify();
    await this.pumping;
  }

  override hasPendingData(): boolean {
    return this.buffer.hasPending() || (this.ledger?.hasPending() ?? false);
  }

  override hasEnded(): boolean {
    return this.ended;
  }

  /**
   * Acknowledges (or nacks) the reads of the batches up to `time`. With checkpointing this is
   * called once the checkpoint at `time` is written, and it also settles the read that brought
   * nothing kept since the previous checkpoint: before the next batch's outputs start, so what
   * the source commits on it is exactly what the checkpoint covers.
   */
  override batchCompleted(time: number, failure: unknown): void {
    for (const [batchTime, blocks] of this.allocated) {
      if (batchTime > time) continue;
      this.allocated.delete(batchTime);
      for (const block of blocks) block.ack?.(failure);
    }
    if (failure === undefined) this.ledger?.takeIdleAcknowledgement()?.();
  }

  /**
   * Acknowledgements waiting: of reads held for a batch or in a batch not yet acknowledged,
   * and with checkpointing of a read that brought nothing (never more than one).
   *
   * @example
   * input.heldAcknowledgements; // 1 while an idle source waits for the next checkpoint
   */
  get heldAcknowledgements(): number {
    let held = this.ledger?.heldAcknowledgements ?? this.buffer.heldAcknowledgements;
    for (const blocks of this.allocated.values()) {
      for (const block of blocks) if (block.ack !== undefined) held++;
    }
    return held;
  }

  protected async computeInput(time: number): Promise<Batch<SourceRecord>> {
    if (time <= this.lastAllocated) return { time, partitions: [] };
    this.lastAllocated = time;
    await this.beforeCut(time);
    const blocks =
      this.ledger === undefined ? this.buffer.take() : await this.ledger.takeBatch(time);
    // A batch that took nothing keeps no entry: an idle stretch holds nothing per batch.
    if (blocks.length > 0) this.allocated.set(time, blocks);
    const columns = byteBatchesOf(blocks);
    if (columns !== undefined) {
      // Byte batches stay columns: a parser reads their bytes, records are made if asked for.
      const rows = columns.reduce((total, part) => total + part.length, 0);
      this.buffered -= rows;
      this.flow.allocate(time, columns, this.buffered <= 0);
      this.wakeup.notify();
      return new ColumnarBatch<SourceRecord>(
        time,
        sliceColumns(columns, rows, this.scope.defaultParallelism).map(
          (pieces): ColumnarPartition => ({ kind: "records", pieces }),
        ),
      );
    }
    const records = blocks.flatMap((block) => block.records);
    this.buffered -= records.length;
    // A new interval: a fresh allowance; the pump resumes a source paused for its rate.
    this.flow.allocate(time, records, this.buffered <= 0);
    this.wakeup.notify();
    return {
      time,
      partitions: sliceIntoPartitions(records, this.scope.defaultParallelism),
    };
  }

  // Reads until the context stops receiving, the input ends, or a fatal error.
  private async pump(signal: AbortSignal): Promise<void> {
    const source = this.connector.connector;
    const session = new SourceSession(source, {
      logger: this.logger,
      ...(this.backoff ? { backoff: this.backoff } : {}),
      // Listeners (the CLI) see that a source cannot connect, not only that it never started.
      onConnectFailure: (error, attempt) =>
        this.post(
          "onReceiverError",
          false,
          `cannot connect (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}`,
          error,
        ),
      // What was logged or let go from the log shortly before stays known across a crash, and
      // the time the connection is down does not count toward how long copies are awaited.
      onConnectionLost: () => this.ledger?.connectionLost(source.deadConnectionTimeoutMs?.()),
      onConnected: () => this.ledger?.connected(),
    });
    try {
      await session.connect(signal);
      this.post("onReceiverStarted", true, "");
      while (!signal.aborted) {
        // Flow control: pause when this interval's allowance is used up or the queue is full;
        // a batch tick or a processed batch wakes the pump to look again.
        const pause = this.flow.pauseReason();
        if (pause !== undefined) {
          if (this.paused === undefined) source.pause();
          this.paused = pause;
          await this.wakeup.wait(signal);
          continue;
        }
        if (this.paused !== undefined) {
          this.paused = undefined;
          source.resume();
        }
        const options = this.flow.readOptions(source.backlog?.());
        if (this.flow.pauseReason() !== undefined) continue;
        const result = await session.next(signal, options);
        if (result === undefined) {
          this.ended = true;
          this.post("onReceiverStopped", false, "end of input");
          return;
        }
        if ((result.columns ?? result.records).length === 0) {
          // Nothing to hold for a batch (a pause, an abort, an idle poll): settled now, or with
          // checkpointing by the next checkpoint's acknowledgements. A source may commit more
          // than the read on an acknowledgement (a Kafka source commits its paired sink's open
          // transaction), and until a checkpoint covers them, the outputs of batches without
          // input (a window's, state snapshots) would be output again after a crash.
          if (this.ledger === undefined) this.settle(result, undefined);
          else this.ledger.receiveNothing((error) => this.settle(result, error));
          continue;
        }
        await this.accept(result, signal);
      }
      this.post("onReceiverStopped", false, "stopped by the StreamingContext");
    } catch (error) {
      if (signal.aborted) {
        this.post("onReceiverStopped", false, "stopped by the StreamingContext");
        return;
      }
      const failure = hasErrorCode(error, "SLUICE_DISK_FULL")
        ? (error as SluiceError)
        : new SluiceError(
            "SLUICE_INPUT_FAILED",
            `source ${this.connector.id} failed: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
      this.post("onReceiverError", false, failure.message, failure);
      this.scope.reportError(failure);
    }
  }

  /**
   * Takes the records of one read into this input: they wait for the next batch (through the
   * write-ahead log with checkpointing), and count against flow control's allowance and queue.
   */
  protected async accept(result: ReadResult, signal: AbortSignal): Promise<void> {
    const settle = (error?: unknown): void => this.settle(result, error);
    if (this.ledger === undefined) {
      const { columns } = result;
      if (columns === undefined) this.buffer.push(result.records, settle);
      else this.buffer.pushColumns(columns, settle);
      this.buffered += (columns ?? result.records).length;
      this.flow.received(columns ?? result.records);
    } else {
      // Only what the log kept waits for a batch: redelivered copies of logged records
      // are dropped and must not count against the queue or the allowance.
      const kept = await this.ledger.receive(result.columns ?? result.records, settle, signal);
      this.buffered += kept.length;
      this.flow.received(kept);
    }
  }

  // A batch was processed: its records leave the queue, the estimator learns its rate, and
  // listeners see the new rate and queue.
  private batchProcessed(info: BatchInfo): void {
    const records = info.streamIdToInputInfo.get(this.inputId)?.numRecords ?? 0;
    this.flow.processed({
      time: info.batchTime,
      records,
      processingDelayMs: observedProcessingMs(records, info.processingDelay),
      schedulingDelayMs: info.schedulingDelay ?? 0,
    });
    this.wakeup.notify();
    const rateInfo: InputRateInfo = {
      streamId: this.inputId,
      name: this.connector.id,
      batchTime: info.batchTime,
      backpressure: this.flow.controller.backpressureEnabled,
      rateLimit: this.flow.controller.currentRate(),
      recordsPerBatch: this.flow.controller.recordsPerBatch(),
      queuedRecords: this.flow.queuedRecords,
      queuedBytes: this.flow.queuedBytes,
      maxQueuedRecords: this.flow.maxQueuedRecords,
      maxQueuedBytes: this.flow.maxQueuedBytes,
      paused: this.paused,
    };
    const perPartition = this.flow.recordsPerPartition();
    const backlog = this.flow.reportedBacklog();
    this.scope.listenerBus.post("onInputRate", {
      ...rateInfo,
      ...(perPartition === undefined ? {} : { recordsPerPartition: perPartition }),
      ...(backlog === undefined ? {} : { backlog }),
    });
  }

  private settle(result: ReadResult, error: unknown): void {
    Promise.resolve()
      .then(() => (error === undefined ? result.ack() : result.ack(error)))
      .catch((ackError: unknown) =>
        this.logger.warn({ err: ackError }, "acknowledging records failed; they may come again"),
      );
  }

  private post(
    event: "onReceiverStarted" | "onReceiverStopped" | "onReceiverError",
    active: boolean,
    message: string,
    error?: unknown,
  ): void {
    const info: ReceiverInfo = {
      streamId: this.inputId,
      name: this.connector.id,
      active,
      lastErrorMessage: message,
      lastError: error,
    };
    this.scope.listenerBus.post(event, info);
  }
}

/**
 * Creates the input stream of a connector source for `ctx.source(...)`: validates the config
 * at once (every invalid field reported), creates the connector in the context's registry.
 *
 * @example
 * const orders = createSourceStream(ctx, "file", { directory: "incoming", format: "jsonl" });
 */
export function createSourceStream(
  context: ScopeHolder,
  source: string | SourcePlugin,
  config: unknown,
  options: SourceStreamOptions = {},
): DStream<SourceRecord> {
  context.scope.assertCanAddOperations();
  const { registry } = context.scope.connectors;
  const instance = registry.createSource(pluginName(registry, source), config, {
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.committedOffsets === undefined
      ? {}
      : { committedOffsets: options.committedOffsets }),
  });
  return new SourceInputDStream(context, instance, options);
}

function connectorLogger(context: ScopeHolder, id: string): Logger {
  return context.scope.connectors.registry.logger.child({ connector: id });
}

/**
 * The processing time the rate estimator learns from. The clock counts whole milliseconds, so a
 * batch of records processed within one reads as 0 ms, from which the estimator (as Spark's)
 * learns nothing; after a slow start had driven the rate to its floor, such batches (a few
 * records each, at that floor) would keep it there for good. They count as the clock's one
 * millisecond: a processing rate no higher than the real one.
 */
function observedProcessingMs(records: number, processingDelay: number | undefined): number {
  const delay = processingDelay ?? 0;
  return records > 0 && delay === 0 && processingDelay !== undefined ? 1 : delay;
}
