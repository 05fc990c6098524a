import { type Message, Partitioners, type Producer, type Transaction } from "kafkajs";
import type { Logger } from "pino";
import {
  abortable,
  backoffDelay,
  closeQuietly,
  InvalidRecordError,
  NotConnectedError,
  realDelay,
  type Sink,
  type SinkRecord,
  SluiceError,
  type WriteBatchContext,
  warnAboutTls,
} from "sluice/connector";
import type { FenceRecord } from "./cluster-fence.js";
import {
  createKafkaClient,
  isConnectionProblem,
  protocolErrorType,
  rootMessage,
  unreachableMessage,
} from "./kafka-client.js";
import { kafkaRefusal } from "./kafka-refusal.js";
import { KeptWrites, type LostWrites, NO_WRITES } from "./kept-writes.js";
import { isKeyedMapWriter } from "./keyed/map-side-writer.js";
import { fencedAdvice } from "./producer-fencing.js";
import { recordBatchGroups, type SizedMessage } from "./record-batch-groups.js";
import type { KafkaSinkConfig } from "./sink-config.js";
import { sinkRecordProblem } from "./sink-record-check.js";
import { attachSink, type ConsumedOffset, linkedSink, linkedSource } from "./transaction-link.js";

/**
 * The Kafka sink's counters, read with `sink.metrics` (a snapshot).
 *
 * @example
 * const { recordsOut, transactions } = sink.metrics;
 */
export interface KafkaSinkMetrics {
  /** Records acknowledged by the brokers (in a transaction: sent, committed or not). */
  readonly recordsOut: number;
  /** Bytes of values and keys of those records. */
  readonly bytesOut: number;
  /** `writeBatch` calls that succeeded. */
  readonly writes: number;
  readonly transactions: number;
  readonly aborts: number;
  /** Writes or commits that failed. */
  readonly errors: number;
}

type Counters = { -readonly [K in keyof KafkaSinkMetrics]: number };

interface OpenTransaction {
  readonly transaction: Transaction;
  /** The first batch whose outputs it holds; NaN when it was begun to carry offsets alone. */
  readonly batchTime: number;
  /** What was written into it, to make it again should its connection be lost. */
  readonly kept: KeptWrites;
}

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The most bytes of values and keys a paired transaction keeps to be made again after a lost
 * connection; a transaction holding more fails its batch when its connection is lost.
 */
const MAX_KEPT_BYTES = 64 * 2 ** 20;

/** Waits between attempts to make a lost paired transaction again before its commit. */
const RECOMMIT_BACKOFF = { initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, jitter: 0.2 };

/**
 * Produces records to one Kafka topic with the idempotent producer (acks from all in-sync
 * replicas; a retried send is never written twice). Keys choose the partition (Kafka's
 * murmur2 partitioner); headers and timestamps are kept.
 *
 * With `transactionalId`, every write is one transaction. Paired with a Kafka source of the
 * same `transactionalId`, a transaction spans every write until the source is acknowledged and
 * commits together with the offsets those batches consumed: exactly-once Kafka to Kafka.
 *
 * @example
 * const sink = new KafkaSink(config, logger);
 * await sink.connect(signal);
 * await sink.writeBatch([{ key, value }], { batchTime, partition: 0, idempotencyKey });
 */
export class KafkaSink implements Sink {
  readonly #config: KafkaSinkConfig;
  readonly #logger: Logger;
  readonly #counters: Counters = {
    recordsOut: 0,
    bytesOut: 0,
    writes: 0,
    transactions: 0,
    aborts: 0,
    errors: 0,
  };
  #producer: Producer | undefined;
  #healthy = false;
  #open: OpenTransaction | undefined;
  /**
   * The writes of a paired transaction lost with its connection before its commit, made again
   * first in the next transaction (the paired source, which has not committed them, does not
   * hand their input out again).
   */
  #redo: LostWrites | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Aborted by `close()`: ends the waits of a commit being made again. */
  readonly #closeRequested = new AbortController();
  #closing: Promise<void> | undefined;
  #detachLink: (() => void) | undefined;
  readonly #oneBatchPerTransaction: boolean;
  /** Writes waiting for the open transaction to commit or abort. */
  #openSettled: (() => void)[] = [];

  /**
   * @param options.oneBatchPerTransaction a paired transaction holds the outputs of one batch
   *   only: a later batch's writes wait until the earlier one's transaction committed or aborted
   *   (cluster mode, where every batch is acknowledged on its own; without it, a transaction
   *   spans the batches up to the next checkpoint).
   */
  constructor(
    config: KafkaSinkConfig,
    logger: Logger,
    options: { readonly oneBatchPerTransaction?: boolean } = {},
  ) {
    this.#oneBatchPerTransaction = options.oneBatchPerTransaction ?? false;
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "Kafka sink");
  }

  /** A snapshot of the counters. */
  get metrics(): KafkaSinkMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#producer !== undefined && this.#healthy) return;
    signal.throwIfAborted();
    if (this.#config.transactionalId !== undefined) {
      refuseKeyedPairing(this.#config.transactionalId);
    }
    await this.#serialized(() => this.#dropProducer());
    try {
      await this.#startProducer(signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      this.#counters.errors++;
      throw this.#failure(error, "connecting");
    }
    const config = this.#config;
    if (config.transactionalId !== undefined && this.#detachLink === undefined) {
      this.#detachLink = attachSink(config.transactionalId, {
        commitWithOffsets: (groupId, offsets, fence) =>
          this.#serialized(() => this.#commitOpen(groupId, offsets, fence)),
        // The source rolls back what its reads produced: nothing of it is made again.
        abortOpen: () =>
          this.#serialized(() => {
            this.#redo = undefined;
            return this.#abortOpen();
          }),
      });
    }
    this.#logger.info({ topic: config.topic }, "Kafka sink connected");
  }

  // A new producer, connected; the one before (if any) was dropped.
  async #startProducer(signal: AbortSignal): Promise<void> {
    const config = this.#config;
    const producer = createKafkaClient(config, this.#logger).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: config.allowAutoTopicCreation,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The idempotent producer needs retries to keep its sequence numbers meaningful.
      retry: { retries: Math.max(1, config.retries), initialRetryTime: 100, maxRetryTime: 5_000 },
      ...(config.transactionalId === undefined
        ? {}
        : {
            transactionalId: config.transactionalId,
            transactionTimeout: config.transactionTimeoutMs,
          }),
    });
    try {
      await abortable(producer.connect(), signal);
    } catch (error) {
      await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
      throw error;
    }
    this.#producer = producer;
    this.#healthy = true;
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#assertOpen();
    // A write in progress when the stop comes stops waiting once the stop's grace for answers
    // is over (`waitsEnd`, else `retriesEnd`; see `untilStopping`). One begun after that still
    // makes its first attempt, and gets one request's time for it (`requestTimeoutMs`, what one
    // attempt against a broker that does not answer takes), not kafkajs's retries after it.
    const waitsEnd = context.waitsEnd ?? context.retriesEnd;
    const stopping =
      waitsEnd?.aborted === true ? AbortSignal.timeout(this.#config.requestTimeoutMs) : waitsEnd;
    const waitFor = <T>(promise: Promise<T>): Promise<T> => untilStopping(promise, stopping);
    const id = this.#config.transactionalId;
    try {
      // The previous batch's acknowledgement may still be committing its transaction.
      const pending = id === undefined ? undefined : linkedSource(id)?.pendingCommit;
      if (pending !== undefined) await waitFor(pending.catch(() => undefined));
      // In cluster mode the acknowledgement of an earlier batch may not have come yet: its
      // transaction must not take this batch's outputs, or committing it would commit them with
      // the earlier offsets (and rolling this batch back after a rebalance would leave them
      // committed).
      while (
        this.#oneBatchPerTransaction &&
        id !== undefined &&
        linkedSource(id) !== undefined &&
        this.#open !== undefined &&
        this.#open.batchTime < context.batchTime
      ) {
        await waitFor(new Promise<void>((resolve) => this.#openSettled.push(resolve)));
      }
      return await waitFor(this.#serialized(() => this.#write(records, context, stopping)));
    } catch (error) {
      if (!stoppedBy(error, stopping)) throw error;
      this.#counters.errors++;
      throw this.#stoppedWaiting(context, error);
    }
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#closeRequested.abort(
      new SluiceError("SLUICE_CONNECTOR_CLOSED", "the Kafka sink was closed"),
    );
    this.#redo = undefined;
    this.#detachLink?.();
    this.#detachLink = undefined;
    // Waits for a write in progress; what a paired transaction holds is rolled back, and the
    // source, which committed nothing, delivers it again on the next run.
    await this.#serialized(() => this.#dropProducer());
  }

  async #write(
    records: readonly SinkRecord[],
    context: WriteBatchContext,
    stopping: AbortSignal | undefined,
  ): Promise<void> {
    this.#assertOpen();
    // The caller gave up while an earlier task held the queue: nothing is sent.
    if (stopping?.aborted === true) throw stopping.reason;
    const producer = this.#producer;
    if (producer === undefined || !this.#healthy) {
      throw new NotConnectedError("the Kafka sink is not connected; call connect() first");
    }
    const groups = this.#messageGroups(records, context);
    const { topic, transactionalId } = this.#config;
    const waitFor = <T>(promise: Promise<T>): Promise<T> => untilStopping(promise, stopping);
    if (transactionalId !== undefined && linkedSource(transactionalId) !== undefined) {
      await this.#writePaired(producer, groups, context, stopping);
    } else if (transactionalId !== undefined) {
      if (groups.length === 0) return;
      let transaction: Transaction | undefined;
      try {
        transaction = await waitFor(producer.transaction());
        for (const messages of groups) await waitFor(transaction.send({ topic, messages }));
        await waitFor(transaction.commit());
      } catch (error) {
        if (stoppedBy(error, stopping)) {
          this.#leaveBehind(groups);
          // Not waited for: Kafka may be away. Should the abort not get there, the broker aborts
          // the transaction on its timeout, or the next producer with this id does.
          void transaction?.abort().catch(() => undefined);
          throw error;
        }
        await transaction?.abort().catch(() => undefined);
        this.#counters.errors++;
        throw this.#failure(error, `writing the batch at ${context.batchTime}`);
      }
      this.#counters.transactions++;
    } else {
      if (groups.length === 0) return;
      try {
        for (const messages of groups) {
          await waitFor(producer.send({ topic, messages, acks: -1 }));
        }
      } catch (error) {
        if (stoppedBy(error, stopping)) {
          this.#leaveBehind(groups);
          throw error;
        }
        this.#counters.errors++;
        throw this.#failure(error, `writing the batch at ${context.batchTime}`);
      }
    }
    this.#counted(records);
  }

  // kafkajs cannot be told to give up a send it began: it retries on its own (up to `retries`
  // times, reconnecting if need be) after the write stopped waiting for it. It holds the very
  // arrays of messages it was given, so emptied they leave it nothing to send should the topic
  // or the broker come back meanwhile (records already on the wire may still land). The
  // producer is replaced before the next write.
  #leaveBehind(groups: readonly Message[][]): void {
    for (const messages of groups) messages.length = 0;
    this.#healthy = false;
  }

  #stoppedWaiting(context: WriteBatchContext, reason: unknown): SluiceError {
    const { brokers, topic, transactionalId } = this.#config;
    return new SluiceError(
      "SLUICE_CONNECTOR_IO",
      `Writing the batch at ${context.batchTime} (partition ${context.partition}) to Kafka topic "${topic}" stopped waiting for Kafka at ${brokers.join(", ")} because the StreamingContext is stopping without draining. The batch is not acknowledged; its input is processed again on the next run${transactionalId === undefined ? " (at least once: Kafka may have taken some of its records)" : ` (its transaction in "${transactionalId}" was aborted)`}.`,
      { cause: reason },
    );
  }

  // One transaction, open from the first write after a commit until the paired source's
  // acknowledgement commits it with the consumed offsets. Sluice acknowledges the reads of the
  // batches output so far together (after each batch, or at each checkpoint) before the next
  // batch starts, so the transaction holds exactly the outputs those reads produced.
  async #writePaired(
    producer: Producer,
    groups: readonly Message[][],
    context: WriteBatchContext,
    stopping: AbortSignal | undefined,
  ): Promise<void> {
    const { topic, transactionalId } = this.#config;
    if (groups.length === 0) return;
    const waitFor = <T>(promise: Promise<T>): Promise<T> => untilStopping(promise, stopping);
    try {
      const open = this.#open ?? (await this.#begin(producer, context.batchTime, waitFor));
      for (const messages of groups) await waitFor(open.transaction.send({ topic, messages }));
      open.kept.add(groups);
    } catch (error) {
      if (stoppedBy(error, stopping)) {
        this.#leaveBehind(groups);
        this.#redo = undefined;
        // Everything the transaction holds is rolled back (the paired source commits nothing and
        // delivers it again); not waited for, as Kafka may be away.
        void this.#abortOpen();
        throw error;
      }
      // What earlier writes put into the transaction; this write's own messages come again
      // with its retry.
      const earlier = this.#lostWrites();
      await this.#abortOpen();
      this.#counters.errors++;
      if (isConnectionProblem(error)) {
        this.#healthy = false;
        // A lost connection, which the framework retries once the broker answers: a new
        // producer with the same transactional id aborts what is left open, and the next
        // transaction holds the earlier writes again before this one.
        if (earlier !== undefined) {
          this.#redo = earlier.groups.length > 0 ? earlier : undefined;
          throw new NotConnectedError(
            `Writing the batch at ${context.batchTime} (partition ${context.partition}) to Kafka topic "${topic}" in transaction "${transactionalId}" lost the connection: ${rootMessage(error)}. The transaction was rolled back; it is made again with this write once the broker answers.`,
            { cause: error },
          );
        }
      }
      this.#redo = undefined;
      throw new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `Writing the batch at ${context.batchTime} (partition ${context.partition}) to Kafka topic "${topic}" in transaction "${transactionalId}" failed: ${rootMessage(error)}. The transaction was aborted and the batch fails; its input is processed again (redelivered after the nack, or from the last committed transaction after a restart).${withAdvice(fencedAdvice(error, transactionalId ?? ""))}`,
        { cause: error },
      );
    }
  }

  // Begins the paired transaction; the writes of one lost before go into it first.
  async #begin(
    producer: Producer,
    batchTime: number,
    waitFor: <T>(promise: Promise<T>) => Promise<T> = (promise) => promise,
  ): Promise<OpenTransaction> {
    const redo = this.#redo;
    const first = redo === undefined ? batchTime : redo.batchTime;
    const open: OpenTransaction = {
      transaction: await waitFor(producer.transaction()),
      batchTime: first,
      kept: new KeptWrites(MAX_KEPT_BYTES, first),
    };
    this.#open = open;
    if (redo !== undefined) {
      const { topic } = this.#config;
      for (const messages of redo.groups) {
        await waitFor(open.transaction.send({ topic, messages }));
      }
      open.kept.add(redo.groups);
      this.#redo = undefined;
      this.#logger.info(
        { batchTime: redo.batchTime, sends: redo.groups.length },
        "made a paired Kafka transaction lost with its connection again",
      );
    }
    return open;
  }

  // The writes a failure now would lose: those of the transaction open (or of one lost before
  // that was not made again yet); undefined when the transaction held too much to keep.
  #lostWrites(): LostWrites | undefined {
    if (this.#redo !== undefined) return this.#redo;
    return this.#open === undefined ? NO_WRITES : this.#open.kept.lost();
  }

  // Commits the paired transaction with the consumed offsets. Lost with its connection before
  // the commit was asked for, it is made again on a new producer (its writes kept) until it
  // commits, the sink closes, or `transactionTimeoutMs` has passed. A commit asked for but not
  // answered may have taken effect or not: that fails, and the job resumes from whichever it was.
  // Cluster mode does not make one again: the partitions may have moved meanwhile.
  async #commitOpen(
    groupId: string,
    offsets: readonly ConsumedOffset[],
    fence?: FenceRecord,
  ): Promise<void> {
    if (this.#producer === undefined) {
      throw new NotConnectedError("the Kafka sink is not connected, so it cannot commit");
    }
    if (this.#open === undefined && offsets.length === 0 && this.#redo === undefined) return;
    // In cluster mode an acknowledgement that consumed nothing comes from a batch without
    // records, which wrote nothing: the open transaction holds a later batch's first writes,
    // which must wait for that batch's own acknowledgement (with its offsets).
    if (offsets.length === 0 && this.#oneBatchPerTransaction) return;
    const giveUpAt = Date.now() + this.#config.transactionTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      let asked = false;
      try {
        if (attempt > 1) {
          // The lost transaction was aborted, or the new producer's start aborts it.
          await this.#dropProducer();
          await this.#startProducer(this.#closeRequested.signal);
        }
        const producer = this.#producer;
        if (producer === undefined) throw new NotConnectedError("the Kafka sink is not connected");
        const { transaction } = this.#open ?? (await this.#begin(producer, Number.NaN));
        if (fence !== undefined && offsets.length > 0) {
          await transaction.send({ topic: fence.topic, messages: [{ value: fence.value }] });
        }
        if (offsets.length > 0) {
          await transaction.sendOffsets({ consumerGroupId: groupId, topics: byTopic(offsets) });
        }
        asked = true;
        await transaction.commit();
        break;
      } catch (error) {
        this.#counters.errors++;
        const earlier = this.#lostWrites();
        await this.#abortOpen();
        const again =
          !asked &&
          isConnectionProblem(error) &&
          earlier !== undefined &&
          !this.#oneBatchPerTransaction &&
          !this.#closed &&
          Date.now() < giveUpAt;
        if (!again) {
          this.#redo = undefined;
          throw error;
        }
        this.#healthy = false;
        this.#redo = earlier.groups.length > 0 ? earlier : undefined;
        const wait = backoffDelay(RECOMMIT_BACKOFF, attempt);
        this.#logger.warn(
          { err: error, attempt, retryInMs: wait },
          "the paired Kafka transaction lost its connection before its commit; making it again",
        );
        await realDelay(wait, this.#closeRequested.signal).catch(() => undefined);
      }
    }
    this.#settleOpen();
    this.#counters.transactions++;
  }

  async #abortOpen(): Promise<void> {
    const open = this.#open;
    this.#settleOpen();
    if (open === undefined) return;
    this.#counters.aborts++;
    await open.transaction.abort().catch((error: unknown) => {
      // The producer is stuck in its aborting state (the broker may have aborted the
      // transaction on its timeout already): the next write reconnects, and a new producer
      // with the same transactional id takes over (Kafka aborts what is left open).
      this.#healthy = false;
      this.#logger.warn({ err: error }, "aborting the Kafka transaction failed; it times out");
    });
  }

  #settleOpen(): void {
    this.#open = undefined;
    const waiting = this.#openSettled;
    this.#openSettled = [];
    for (const resolve of waiting) resolve();
  }

  async #dropProducer(): Promise<void> {
    await this.#abortOpen();
    const producer = this.#producer;
    this.#producer = undefined;
    this.#healthy = false;
    if (producer !== undefined) await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
  }

  // The batch's messages in groups of at most maxRecordBytes, sent one after the other: the
  // broker's size limit applies to each partition's records of one send (record-batch-groups.ts).
  #messageGroups(records: readonly SinkRecord[], context: WriteBatchContext): Message[][] {
    const { maxRecordBytes } = this.#config;
    const sized = records.map((record, index): SizedMessage => {
      const problem = sinkRecordProblem(record);
      if (problem !== undefined) {
        throw new InvalidRecordError(
          `Record ${index} of the batch at ${context.batchTime} (partition ${context.partition}) for Kafka topic "${this.#config.topic}" ${problem}.`,
          { recordIndex: index },
        );
      }
      let size = record.value.byteLength + (record.key?.byteLength ?? 0);
      const headers: Record<string, Buffer> = {};
      for (const [name, value] of Object.entries(record.headers ?? {})) {
        headers[name] = asBuffer(value);
        size += Buffer.byteLength(name) + value.byteLength;
      }
      if (size > maxRecordBytes) {
        throw new InvalidRecordError(
          `Record ${index} of the batch at ${context.batchTime} (partition ${context.partition}) takes ${size} bytes (value, key and headers), more than maxRecordBytes (${maxRecordBytes}). Split it, or raise maxRecordBytes together with the topic's max.message.bytes.`,
          { recordIndex: index },
        );
      }
      const message: Message = {
        value: record.tombstone === true ? null : asBuffer(record.value),
        key: record.key === undefined ? null : asBuffer(record.key),
        headers,
        ...(record.timestampMs === undefined
          ? {}
          : { timestamp: String(Math.trunc(record.timestampMs)) }),
      };
      return { message, bytes: size, headers: Object.keys(headers).length };
    });
    return recordBatchGroups(sized, maxRecordBytes);
  }

  #counted(records: readonly SinkRecord[]): void {
    this.#counters.writes++;
    this.#counters.recordsOut += records.length;
    for (const record of records) {
      this.#counters.bytesOut += record.value.byteLength + (record.key?.byteLength ?? 0);
    }
  }

  #failure(error: unknown, doing: string): Error {
    const { brokers, topic, transactionalId } = this.#config;
    const refusal = kafkaRefusal(error, brokers, {
      who: "the sink",
      topics: `"${topic}"`,
      transactionalId,
      topicOperation: "Write",
    });
    if (refusal !== undefined) return refusal;
    if (isConnectionProblem(error)) {
      this.#healthy = false;
      return new NotConnectedError(unreachableMessage(brokers, error), { cause: error });
    }
    if (error instanceof SluiceError) return error;
    const type = protocolErrorType(error);
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
      return new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `Kafka at ${brokers.join(", ")} has no topic "${topic}": create it first, or set allowAutoTopicCreation.`,
        { cause: error },
      );
    }
    const fenced = transactionalId === undefined ? undefined : fencedAdvice(error, transactionalId);
    return new SluiceError(
      doing === "connecting" ? "SLUICE_CONNECTOR_REFUSED" : "SLUICE_CONNECTOR_IO",
      `Kafka at ${brokers.join(", ")} failed while ${doing} to topic "${topic}": ${rootMessage(error)}. ${fenced ?? "Check the topic, its permissions and the sasl/tls settings."}`,
      { cause: error },
    );
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the Kafka sink was closed");
  }
}

// In a cluster job with a keyed part, the Kafka source's transactions carry the keyed exchange:
// a sink cannot pair with it.
function refuseKeyedPairing(transactionalId: string): void {
  const existing = linkedSink(transactionalId);
  if (existing === undefined || !isKeyedMapWriter(existing)) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `The Kafka sink's transactionalId "${transactionalId}" pairs it with the Kafka source of a cluster job with a keyed part, whose transactions carry the keyed exchange (its repartition topic); a sink cannot join them. Remove transactionalId from the Kafka sink (or give it one of its own).`,
  );
}

/**
 * Consumed offsets grouped by topic, as `sendOffsets` takes them.
 *
 * @example
 * await transaction.sendOffsets({ consumerGroupId, topics: byTopic(offsets) });
 */
export function byTopic(
  offsets: readonly ConsumedOffset[],
): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const { topic, partition, offset } of offsets) {
    const partitions = topics.get(topic) ?? [];
    partitions.push({ partition, offset: offset.toString() });
    topics.set(topic, partitions);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

// Resolves like `promise`, or rejects with `stopping`'s reason once the job stops without
// draining: kafkajs retries a request that failed (a topic it cannot find, a broker away) for as
// long as `retries` allows, and a stop does not wait for that.
function untilStopping<T>(promise: Promise<T>, stopping: AbortSignal | undefined): Promise<T> {
  return stopping === undefined ? promise : abortable(promise, stopping);
}

/** True when `error` is the reason `untilStopping` gave up a wait with. */
function stoppedBy(error: unknown, stopping: AbortSignal | undefined): boolean {
  return stopping?.aborted === true && error === stopping.reason;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function withAdvice(advice: string | undefined): string {
  return advice === undefined ? "" : ` ${advice}`;
}
