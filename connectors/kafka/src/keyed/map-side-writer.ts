import { type Kafka, type Message, Partitioners, type Producer, type Transaction } from "kafkajs";
import type { Logger } from "pino";
import { closeQuietly, SluiceError } from "sluice/connector";
import type { FenceRecord } from "../cluster-fence.js";
import { rootMessage } from "../kafka-client.js";
import { byTopic } from "../kafka-sink.js";
import {
  attachSink,
  type ConsumedOffset,
  type LinkedSink,
  linkedSink,
  linkedSource,
} from "../transaction-link.js";
import { checkKeyedValueSize } from "./keyed-topics.js";
import { chunkMessage, markerMessage } from "./repartition-records.js";

/** How the map side writes. */
export interface MapSideWriterOptions {
  /** The paired source's transactional id (this process's). */
  readonly transactionalId: string;
  readonly repartitionTopic: string;
  readonly partitions: number;
  /** How long the broker keeps a silent writer's transaction open before aborting it. */
  readonly transactionTimeoutMs: number;
  /** The input partitions this process's source owns now, `"<topic>-<partition>"`. */
  readonly ownedInputs: () => readonly string[];
}

interface OpenTransaction {
  readonly transaction: Transaction;
  /** The batch whose writes it holds; NaN when it was begun to carry offsets alone. */
  readonly time: number;
  /** True once it holds chunks (records), not only markers. */
  chunks: boolean;
}

const KEYED_WRITER = Symbol.for("sluice.kafka.keyedMapWriter");
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * True when `sink` is the map side of a keyed exchange (the pairing a Kafka sink cannot join).
 *
 * @example
 * if (existing !== undefined && isKeyedMapWriter(existing)) throw refusal;
 */
export function isKeyedMapWriter(sink: LinkedSink): boolean {
  return (sink as { [KEYED_WRITER]?: boolean })[KEYED_WRITER] === true;
}

/**
 * The map side of the keyed exchange: the paired sink of the Kafka source's transactional id.
 * Each batch's chunks and a marker per owned input partition go to the repartition topic in one
 * Kafka transaction, which commits with the batch's consumed offsets (and the group's fence
 * record) when the source is acknowledged. The open transaction holds exactly one batch: a
 * later batch's write waits until the earlier one committed or aborted. A transaction of markers
 * alone commits with any acknowledgement (an idle input's markers must become visible); one
 * holding chunks only with offsets, since an idle poll's acknowledgement (settled at once) may
 * come before the batch's own.
 *
 * @example
 * const writer = new MapSideWriter(kafka, options, logger);
 * await writer.connect();
 * await writer.write(1000, chunks);
 */
export class MapSideWriter {
  readonly #kafka: Pick<Kafka, "producer">;
  readonly #options: MapSideWriterOptions;
  readonly #logger: Logger;
  #producer: Producer | undefined;
  #healthy = false;
  #open: OpenTransaction | undefined;
  /** The batch a write waiting to run will open the transaction for. */
  #claimed: number | undefined;
  #openSettled: (() => void)[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #detach: (() => void) | undefined;
  #closed = false;

  constructor(kafka: Pick<Kafka, "producer">, options: MapSideWriterOptions, logger: Logger) {
    this.#kafka = kafka;
    this.#options = options;
    this.#logger = logger;
  }

  /** Connects the transactional producer and pairs it with the source's transactional id. */
  async connect(): Promise<void> {
    const id = this.#options.transactionalId;
    if (this.#detach === undefined) {
      const existing = linkedSink(id);
      if (existing !== undefined) {
        throw new SluiceError(
          "SLUICE_INVALID_CONFIG",
          `A Kafka sink is paired with the Kafka source by transactionalId "${id}" in a cluster job with a keyed part: there the source's transactions carry the keyed exchange (its repartition topic), and a sink cannot join them. Remove transactionalId from the Kafka sink (or give it one of its own).`,
        );
      }
      const linked: LinkedSink & { [KEYED_WRITER]: true } = {
        [KEYED_WRITER]: true,
        commitWithOffsets: (groupId, offsets, fence) =>
          this.#serialized(() => this.#commitOpen(groupId, offsets, fence)),
        abortOpen: () => this.#serialized(() => this.#abortOpen()),
      };
      this.#detach = attachSink(id, linked);
    }
    await this.#serialized(() => this.#connectedProducer());
  }

  /**
   * Writes batch `time`: `chunks[r]` (if any) and a marker per owned input into each keyed
   * partition `r`, in the batch's transaction (committed by the source's acknowledgement).
   */
  async write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void> {
    this.#assertOpen();
    const { partitions, transactionalId } = this.#options;
    if (chunks.length !== partitions) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `KeyedExchange.write(${time}): got ${chunks.length} chunks, but the exchange has ${partitions} keyed partitions (one chunk or undefined per partition).`,
      );
    }
    for (const [partition, chunk] of chunks.entries()) {
      checkKeyedValueSize(
        chunk?.byteLength ?? 0,
        `The chunk of batch ${time}'s pairs for keyed partition ${partition}`,
        "Use more keyed partitions (cluster.keyedPartitions), a shorter batch interval, or a lower maxRate or maxRatePerPartition on the source, so that a batch carries fewer pairs for each keyed partition.",
      );
    }
    // The previous batch's acknowledgement may still be committing its transaction.
    await linkedSource(transactionalId)?.pendingCommit?.catch(() => undefined);
    // Waits while the transaction (open, or claimed by a write not yet run) holds an earlier
    // batch; the claim is taken at once, so a write of the batch after this one waits too.
    for (;;) {
      const holder = this.#open?.time ?? this.#claimed;
      if (holder === undefined || holder >= time) break;
      const settled = new Promise<void>((resolve) => this.#openSettled.push(resolve));
      // The previous batch is done and its acknowledgements, if any, already committed (awaited
      // above): a transaction still open from it holds a batch that handed out no read (cut
      // before the source's first read, or while it was paused), which no acknowledgement
      // commits; the reads of this batch are acknowledged only after this write. Committed
      // now, with no offsets, it frees the write instead of stalling every later batch.
      if (this.#open !== undefined && this.#open.time < time) {
        void linkedSource(transactionalId)
          ?.commitAcknowledged?.()
          .catch(() => undefined);
      }
      await settled;
    }
    this.#claimed = time;
    return this.#serialized(() => this.#write(time, chunks));
  }

  /** Aborts what is open and disconnects; the source's next owner reads its batch again. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach?.();
    this.#detach = undefined;
    await this.#serialized(() => this.#dropProducer());
  }

  async #write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void> {
    this.#assertOpen();
    const { repartitionTopic, ownedInputs } = this.#options;
    const inputs = ownedInputs();
    // Per keyed partition, the chunk before the markers: a marker may complete the batch, and
    // the chunk it vouches for must be read first.
    const messages: Message[] = [];
    for (const [partition, chunk] of chunks.entries()) {
      if (chunk !== undefined) messages.push(chunkMessage(partition, time, chunk));
      for (const input of inputs) messages.push(markerMessage(partition, time, input));
    }
    if (messages.length === 0) {
      // Nothing to hold: the next batch need not wait for this one's commit.
      if (this.#open === undefined) this.#settleOpen();
      return;
    }
    try {
      const producer = await this.#connectedProducer();
      this.#open ??= { transaction: await producer.transaction(), time, chunks: false };
      if (chunks.some((chunk) => chunk !== undefined)) this.#open.chunks = true;
      await this.#open.transaction.send({ topic: repartitionTopic, messages, acks: -1 });
    } catch (error) {
      await this.#abortOpen();
      throw new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `Writing batch ${time} to the keyed exchange's topic "${repartitionTopic}" in transaction "${this.#options.transactionalId}" failed: ${rootMessage(error)}. The transaction was aborted; the batch's input is read again.`,
        { cause: error },
      );
    }
  }

  async #commitOpen(
    groupId: string,
    offsets: readonly ConsumedOffset[],
    fence?: FenceRecord,
  ): Promise<void> {
    if (this.#open === undefined) {
      if (offsets.length === 0) {
        this.#settleOpen();
        return;
      }
      const producer = await this.#connectedProducer();
      this.#open = { transaction: await producer.transaction(), time: Number.NaN, chunks: false };
    }
    // An acknowledgement that consumed nothing (an idle poll's, settled at once) is not the
    // batch's: chunks must commit with the offsets of the records they hold, which the batch's
    // own acknowledgement brings. Markers alone may commit with it.
    if (offsets.length === 0 && this.#open.chunks) return;
    const { transaction } = this.#open;
    try {
      if (fence !== undefined) {
        await transaction.send({ topic: fence.topic, messages: [{ value: fence.value }] });
      }
      if (offsets.length > 0) {
        await transaction.sendOffsets({ consumerGroupId: groupId, topics: byTopic(offsets) });
      }
      await transaction.commit();
    } catch (error) {
      await this.#abortOpen();
      throw error;
    }
    this.#settleOpen();
  }

  async #abortOpen(): Promise<void> {
    const open = this.#open;
    this.#settleOpen();
    if (open === undefined) return;
    await open.transaction.abort().catch((error: unknown) => {
      // The producer is stuck aborting (the broker may have aborted on its timeout): the next
      // write connects a new producer with the same transactional id, which fences this one.
      this.#healthy = false;
      this.#logger.warn({ err: error }, "aborting the keyed exchange's transaction failed");
    });
  }

  #settleOpen(): void {
    this.#open = undefined;
    this.#claimed = undefined;
    for (const resolve of this.#openSettled.splice(0)) resolve();
  }

  async #connectedProducer(): Promise<Producer> {
    if (this.#producer !== undefined && this.#healthy) return this.#producer;
    await this.#dropProducer();
    const { transactionalId, transactionTimeoutMs } = this.#options;
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId,
      transactionTimeout: transactionTimeoutMs,
    });
    await producer.connect();
    this.#producer = producer;
    this.#healthy = true;
    return producer;
  }

  async #dropProducer(): Promise<void> {
    await this.#abortOpen();
    const producer = this.#producer;
    this.#producer = undefined;
    this.#healthy = false;
    if (producer !== undefined) await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the keyed exchange was closed");
    }
  }
}
