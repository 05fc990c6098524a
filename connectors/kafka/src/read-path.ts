import type { Consumer, IHeaders, KafkaMessage } from "kafkajs";
import type { Logger } from "pino";
import {
  type ReadOptions,
  type RecordHeaders,
  SluiceError,
  type SourceRecordColumns,
  SourceRecordColumnsBuilder,
} from "sluice/connector";
import { compactHeaders } from "./compact-headers.js";
import type { HeldRecord, PartitionState } from "./partition-state.js";
import type { KafkaSourceConfig } from "./source-config.js";
import { parsePartitionKey, partitionKey } from "./topic-partition.js";

/** One partition's share of a read. */
export interface ReadPart {
  readonly state: PartitionState;
  readonly records: HeldRecord[];
}

/**
 * What one read takes out of the buffers: its number, where its records came from, and the
 * records as one byte batch (values and keys in a blob each, the partitions' rows one after
 * the other, headers made only when a record is asked for).
 */
export interface Taken {
  readonly sequence: number;
  readonly parts: readonly ReadPart[];
  readonly columns: SourceRecordColumns;
}

/** A read's limits from flow control (`ReadOptions`), checked. */
export interface ReadLimits {
  readonly maxRecords: number;
  readonly perPartition: ReadonlyMap<string, number> | undefined;
}

type ReadPathConfig = Pick<
  KafkaSourceConfig,
  "maxRecordsPerRead" | "maxRecordsPerPartition" | "maxBufferedRecordsPerPartition"
>;

const EMPTY = new Uint8Array(0);
const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The Kafka source's read path: the records fetched per assigned partition, handed out in
 * reads bounded by `maxRecordsPerRead`, `maxRecordsPerPartition` and flow control's limits
 * (one partition further each read, so every partition gets its turn), and fetching paused per
 * partition while its buffer is full or the source is paused. The consumer session fills it
 * from kafkajs's batches and tells it which consumer to pause.
 *
 * @example
 * const path = new ReadPath(config, logger, counters);
 * path.attach(consumer);
 * path.receive("orders-0", messages, highWatermark);
 * const taken = path.take(readLimits({ maxRecords: 100 }));
 */
export class ReadPath {
  /** The assigned partitions' states, by `"<topic>-<partition>"`. */
  readonly partitions = new Map<string, PartitionState>();
  readonly #config: ReadPathConfig;
  readonly #logger: Logger;
  readonly #counters: { recordsIn: number; bytesIn: number };
  #consumer: Pick<Consumer, "pause" | "resume"> | undefined;
  #appliedPauses = new Set<string>();
  /** Partitions kept paused until their start position is known (see `hold`). */
  readonly #held = new Set<string>();
  #paused = false;
  #sequence = 0;
  #cursor = 0;

  /** The number of the latest read that handed out records (0 before the first). */
  get lastSequence(): number {
    return this.#sequence;
  }

  constructor(
    config: ReadPathConfig,
    logger: Logger,
    counters: { recordsIn: number; bytesIn: number },
  ) {
    this.#config = config;
    this.#logger = logger;
    this.#counters = counters;
  }

  /** Records fetched and held, not yet handed out (nacked ones included). */
  get bufferedRecords(): number {
    let buffered = 0;
    for (const state of this.partitions.values()) buffered += state.buffered;
    return buffered;
  }

  /** Partitions whose fetching is paused now. */
  get pausedPartitions(): number {
    return this.#appliedPauses.size;
  }

  /** True while the source is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Uses `consumer` for pausing from now on (undefined: none). A new consumer has no pauses; the
   * same one again (a rebalance) keeps those applied: kafkajs keeps a consumer's pauses across
   * rebalances, of partitions it gave up too, and the next sync resumes what is no longer wanted
   * (a partition paused when it moved away would otherwise never be fetched from when it comes
   * back).
   */
  attach(consumer: Pick<Consumer, "pause" | "resume"> | undefined): void {
    if (consumer !== this.#consumer) this.#appliedPauses = new Set();
    this.#consumer = consumer;
  }

  /** kafkajs restarted its consumer (after lost brokers) and, with its new group, forgot every pause. */
  consumerRestarted(): void {
    this.#appliedPauses = new Set();
  }

  /**
   * Keeps the partitions `keys` from being fetched until `release`: their start position is
   * still being looked up, and a fetch meanwhile would start them wherever kafkajs chose.
   */
  hold(keys: readonly string[]): void {
    for (const key of keys) this.#held.add(key);
    this.syncPauses();
  }

  /** Lets the partitions `keys` be fetched again (see `hold`). */
  release(keys: readonly string[]): void {
    for (const key of keys) this.#held.delete(key);
    this.syncPauses();
  }

  /** Pauses or resumes every partition's fetching (flow control); false when nothing changed. */
  setPaused(paused: boolean): boolean {
    if (this.#paused === paused) return false;
    this.#paused = paused;
    this.syncPauses();
    return true;
  }

  /** Records waiting per assigned partition: held ones plus its lag. */
  backlog(): ReadonlyMap<string, number> {
    const backlog = new Map<string, number>();
    for (const [key, state] of this.partitions) backlog.set(key, state.backlog);
    return backlog;
  }

  /**
   * Keeps what a fetched batch of partition `key` holds that is new; false when the partition
   * is not assigned (any more) or the batch is empty.
   */
  receive(key: string, messages: readonly KafkaMessage[], highWatermark: string): boolean {
    const state = this.partitions.get(key);
    if (state === undefined || messages.length === 0) return false;
    // Kept even when the partition (or the source) was paused after this batch was fetched:
    // kafkajs delivers a fetched batch regardless, and it is not fetched again.
    const headers = compactHeaders(messages);
    state.accept(messages.map((message, index) => toHeld(message, headers[index])));
    state.highWatermark = BigInt(highWatermark);
    this.syncPauses();
    return true;
  }

  /** Takes the records of one read within `limits`; undefined when there are none. */
  take(limits: ReadLimits): Taken | undefined {
    const entries = [...this.partitions];
    if (entries.length === 0) return undefined;
    const maxRecords = Math.min(this.#config.maxRecordsPerRead, limits.maxRecords);
    const parts: ReadPart[] = [];
    const builder = new SourceRecordColumnsBuilder(toHeaders);
    let total = 0;
    for (let index = 0; index < entries.length && total < maxRecords; index++) {
      const [key, state] = entries[(this.#cursor + index) % entries.length] as [
        string,
        PartitionState,
      ];
      const ofPartition = Math.min(
        this.#config.maxRecordsPerPartition,
        limits.perPartition?.get(key) ?? Number.POSITIVE_INFINITY,
        maxRecords - total,
      );
      const records = state.take(ofPartition);
      if (records.length === 0) continue;
      parts.push({ state, records });
      for (const held of records) addRow(builder, key, held);
      total += records.length;
    }
    this.#cursor = (this.#cursor + 1) % entries.length;
    const columns = builder.build();
    if (columns === undefined) return undefined;
    pointAtRows(parts, columns);
    const sequence = ++this.#sequence;
    for (const part of parts) part.state.delivered(sequence, part.records);
    this.#counters.recordsIn += columns.length;
    this.#counters.bytesIn += columns.byteLength;
    this.syncPauses();
    return { sequence, parts, columns };
  }

  /** The parts of a read whose partitions are still assigned to the same state. */
  current(parts: readonly ReadPart[]): ReadPart[] {
    return parts.filter(
      (part) =>
        this.partitions.get(partitionKey(part.state.topic, part.state.partition)) === part.state,
    );
  }

  /**
   * Pauses the partitions whose buffers are full (all of them while the source is paused) and
   * resumes the others; runs after every join too (see `attach`).
   */
  syncPauses(): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    const wanted = new Set<string>();
    for (const [key, state] of this.partitions) {
      if (
        this.#paused ||
        this.#held.has(key) ||
        state.fresh >= this.#config.maxBufferedRecordsPerPartition
      ) {
        wanted.add(key);
      }
    }
    const toPause = [...wanted].filter((key) => !this.#appliedPauses.has(key));
    const toResume = [...this.#appliedPauses].filter((key) => !wanted.has(key));
    try {
      if (toPause.length > 0) consumer.pause(toPause.map(asTopicPartitions));
      if (toResume.length > 0) consumer.resume(toResume.map(asTopicPartitions));
      this.#appliedPauses = wanted;
    } catch (error) {
      // Between a crash and the restart kafkajs has no group to pause; the next join re-applies.
      this.#logger.debug({ err: error }, "pausing Kafka partitions deferred to the next join");
    }
  }
}

/**
 * Checks flow control's limits of one read.
 *
 * @example
 * readLimits({ maxRecords: 100 }); // { maxRecords: 100, perPartition: undefined }
 */
export function readLimits(options: ReadOptions): ReadLimits {
  const { maxRecords, maxRecordsPerPartition } = options;
  if (maxRecords !== undefined) requireCount(maxRecords, "maxRecords");
  for (const [key, max] of maxRecordsPerPartition ?? []) {
    requireCount(max, `maxRecordsPerPartition["${key}"]`);
  }
  return {
    maxRecords: maxRecords ?? Number.POSITIVE_INFINITY,
    perPartition: maxRecordsPerPartition,
  };
}

function requireCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `Kafka source read: ${name} must be a whole number of records, 0 or more, got ${String(value)}`,
    );
  }
}

function asTopicPartitions(key: string): { topic: string; partitions: number[] } {
  const { topic, partition } = parsePartitionKey(key);
  return { topic, partitions: [partition] };
}

function toHeld(message: KafkaMessage, headers: IHeaders | undefined): HeldRecord {
  return {
    kafkaOffset: BigInt(message.offset),
    value: message.value,
    key: message.key,
    timestampMs: Number(message.timestamp),
    headers,
    read: undefined,
    row: 0,
  };
}

// One row of a read: the record the message makes, `offset` the position after it (a number
// while it is a safe integer, which Kafka offsets in practice always are).
function addRow(
  builder: SourceRecordColumnsBuilder<IHeaders>,
  partition: string,
  held: HeldRecord,
): void {
  const next = held.kafkaOffset + 1n;
  const { read, row } = held;
  // A null value (a tombstone) stays one: the row is marked, not given empty bytes.
  const value =
    read === undefined
      ? held.value
      : read.isTombstone(row)
        ? null
        : read.bytes.subarray(read.valueOffsets[row], read.valueOffsets[row + 1]);
  builder.add(
    partition,
    value,
    read === undefined ? held.key : read.keyAt(row),
    held.timestampMs,
    next <= MAX_SAFE_OFFSET ? Number(next) : next.toString(),
    held.headers,
  );
}

// Points each record held for a nack at its row of the read's byte batch (see HeldRecord).
function pointAtRows(parts: readonly ReadPart[], columns: SourceRecordColumns): void {
  let row = 0;
  for (const part of parts) {
    for (const held of part.records) {
      held.value = null;
      held.key = null;
      held.read = columns;
      held.row = row++;
    }
  }
}

const encoder = new TextEncoder();

// Kafka allows a header name more than once; like Kafka's lastHeader(), the last value wins. A
// header without a value (null, which kafkajs's types leave out) gives empty bytes: the header
// stays, and record headers are always bytes.
function toHeaders(headers: IHeaders): RecordHeaders {
  const result: Record<string, Uint8Array> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const value: Buffer | string | null | undefined = Array.isArray(raw)
      ? raw[raw.length - 1]
      : raw;
    if (value === undefined) continue;
    result[name] =
      value === null ? EMPTY : typeof value === "string" ? encoder.encode(value) : value;
  }
  return result;
}
