import { SourceRecordColumns } from "../connector/record-columns.js";
import type { SourceRecord } from "../connector/records.js";
import type { ReadOptions } from "../connector/source.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { BatchObservation } from "./pid-rate-estimator.js";
import { RateController, type RateControlOptions } from "./rate-controller.js";

/** How one source's intake is bounded. */
export interface SourceFlowControlOptions {
  /** The context's batch interval, milliseconds. */
  readonly batchIntervalMs: number;
  /** Rate estimation and caps (the context's `backpressure`). */
  readonly rate?: RateControlOptions;
  /** Records received but not yet processed before the source is paused. */
  readonly maxQueuedRecords: number;
  /** Bytes (values and keys) of those records before the source is paused. */
  readonly maxQueuedBytes: number;
}

/** Why a source is paused: its allowance for the interval is used up, or its queue is full. */
export type PauseReason = "rate" | "queue";

/** Records and bytes held by one batch until it is processed. */
interface Held {
  readonly records: number;
  readonly bytes: number;
}

/**
 * The flow control of one connector source: a `RateController` fed by completed batches gives
 * each batch interval an allowance of records, and a queue of received-but-unprocessed records
 * (bounded in records and bytes) holds what was read until the batch holding it completes. The
 * pump asks it how much to read next and whether to pause; it never decides on its own.
 *
 * @example
 * const flow = new SourceFlowControl({ batchIntervalMs: 1000, maxQueuedRecords: 10_000, maxQueuedBytes: 64 << 20 });
 * flow.received(records);
 * flow.allocate(1000, records, true);
 * flow.processed({ time: 1000, records: records.length, processingDelayMs: 800, schedulingDelayMs: 0 });
 */
export class SourceFlowControl {
  readonly controller: RateController;
  readonly maxQueuedRecords: number;
  readonly maxQueuedBytes: number;
  private pendingRecords = 0;
  private pendingBytes = 0;
  private readonly inFlight = new Map<number, Held>();
  private inFlightRecords = 0;
  private inFlightBytes = 0;
  // Records read in the current batch interval; a surplus carries over to the next one.
  private intervalReceived = 0;
  // The same per partition, for sources that report a backlog.
  private intervalReceivedByPartition = new Map<string, number>();
  private lastBacklog: ReadonlyMap<string, number> | undefined;
  private partitionsSeen = 1;
  private largestRecordBytes = 0;
  private queueFull = false;
  // Every partition with records waiting used its share of this interval's allowance.
  private sharesUsed = false;

  constructor(options: SourceFlowControlOptions) {
    this.controller = new RateController(options.batchIntervalMs, options.rate);
    this.maxQueuedRecords = requireBound("maxBufferedRecords", options.maxQueuedRecords);
    this.maxQueuedBytes = requireBound("maxBufferedBytes", options.maxQueuedBytes);
  }

  /** Records received that no batch holds yet (the next batch takes them). */
  get waitingRecords(): number {
    return this.pendingRecords;
  }

  /** Records received and not yet processed (waiting for a batch, or in an unfinished batch). */
  get queuedRecords(): number {
    return this.pendingRecords + this.inFlightRecords;
  }

  /** Bytes (values and keys) of the queued records. */
  get queuedBytes(): number {
    return this.pendingBytes + this.inFlightBytes;
  }

  /** Records the source may still deliver in the current batch interval; undefined = no limit. */
  remainingAllowance(): number | undefined {
    const allowance = this.controller.recordsPerBatch(this.partitionsSeen);
    return allowance === undefined ? undefined : Math.max(0, allowance - this.intervalReceived);
  }

  /** Why the source must be paused now, or undefined when it may read. */
  pauseReason(): PauseReason | undefined {
    this.updateQueueFull();
    if (this.queueFull) return "queue";
    return this.remainingAllowance() === 0 || this.sharesUsed ? "rate" : undefined;
  }

  /**
   * The `maxRecords` hint of the next read: the allowance left in this interval, and the room
   * left in the queue (at least 1).
   */
  readHint(): number {
    const allowance = this.remainingAllowance();
    let room = this.maxQueuedRecords - this.queuedRecords;
    if (this.largestRecordBytes > 0) {
      // Records as large as the largest seen so far that still fit in the byte bound.
      const bytesRoom = this.maxQueuedBytes - this.queuedBytes;
      room = Math.min(room, Math.floor(bytesRoom / this.largestRecordBytes));
    }
    room = Math.max(1, room);
    return Math.max(1, allowance === undefined ? room : Math.min(allowance, room));
  }

  /**
   * The options of the next read: `maxRecords` from `readHint`, and for a source that reports
   * its `backlog` per partition, each partition's share of this interval's allowance in
   * proportion to its backlog (capped by `maxRatePerPartition`), less what it already delivered
   * in the interval, and at most `maxRecords`.
   */
  readOptions(backlog?: ReadonlyMap<string, number>): ReadOptions {
    if (backlog === undefined || backlog.size === 0) return { maxRecords: this.readHint() };
    this.lastBacklog = backlog;
    this.partitionsSeen = backlog.size;
    const maxRecords = this.readHint();
    const shares = this.controller.recordsPerPartition(backlog);
    if (shares.size === 0) return { maxRecords };
    const maxRecordsPerPartition = new Map<string, number>();
    let waitingWithShare = 0;
    let waiting = 0;
    for (const [partition, share] of shares) {
      const delivered = this.intervalReceivedByPartition.get(partition) ?? 0;
      const left = Math.min(maxRecords, Math.max(0, share - delivered));
      maxRecordsPerPartition.set(partition, left);
      if ((backlog.get(partition) ?? 0) > 0) {
        waiting++;
        if (left > 0) waitingWithShare++;
      }
    }
    this.sharesUsed = waiting > 0 && waitingWithShare === 0;
    return { maxRecords, maxRecordsPerPartition };
  }

  /**
   * Each partition's share of the next batch's allowance by the backlog the source reported
   * last; undefined for sources without a backlog or without a limit.
   */
  recordsPerPartition(): ReadonlyMap<string, number> | undefined {
    if (this.lastBacklog === undefined) return undefined;
    const shares = this.controller.recordsPerPartition(this.lastBacklog);
    return shares.size === 0 ? undefined : shares;
  }

  /** The records waiting per partition the source reported last; undefined for sources without a backlog. */
  reportedBacklog(): ReadonlyMap<string, number> | undefined {
    return this.lastBacklog;
  }

  /** Counts records a read returned (all of them, even beyond the hint). */
  received(records: readonly SourceRecord[] | SourceRecordColumns): void {
    if (records instanceof SourceRecordColumns) {
      this.receivedColumns(records);
      return;
    }
    let bytes = 0;
    for (const record of records) {
      const size = recordBytes(record);
      bytes += size;
      if (size > this.largestRecordBytes) this.largestRecordBytes = size;
    }
    this.pendingRecords += records.length;
    this.pendingBytes += bytes;
    this.intervalReceived += records.length;
    if (this.lastBacklog !== undefined) {
      for (const record of records) {
        const count = this.intervalReceivedByPartition.get(record.partition) ?? 0;
        this.intervalReceivedByPartition.set(record.partition, count + 1);
      }
    }
  }

  // A byte batch: counted from its offsets, no record made.
  private receivedColumns(columns: SourceRecordColumns): void {
    const largest = columns.largestRecordBytes();
    if (largest > this.largestRecordBytes) this.largestRecordBytes = largest;
    this.pendingRecords += columns.length;
    this.pendingBytes += columns.byteLength;
    this.intervalReceived += columns.length;
    if (this.lastBacklog !== undefined) {
      for (const [partition, rows] of columns.rowsPerPartition()) {
        const count = this.intervalReceivedByPartition.get(partition) ?? 0;
        this.intervalReceivedByPartition.set(partition, count + rows);
      }
    }
  }

  /**
   * The batch at `time` took `records` (records, or byte batches): they stay queued until it is
   * processed. A new interval starts (what was read beyond the last allowance counts against
   * this one). `nothingPending` resets the count of records waiting (records a write-ahead log
   * dropped as copies are never taken).
   */
  allocate(
    time: number,
    records: readonly SourceRecord[] | readonly SourceRecordColumns[],
    nothingPending: boolean,
  ): void {
    const tally = tallyOf(records);
    const held: Held = { records: tally.records, bytes: tally.bytes };
    const previous = this.inFlight.get(time);
    if (previous !== undefined) this.release(previous);
    this.inFlight.set(time, held);
    this.inFlightRecords += held.records;
    this.inFlightBytes += held.bytes;
    this.pendingRecords = nothingPending ? 0 : Math.max(0, this.pendingRecords - held.records);
    this.pendingBytes = nothingPending ? 0 : Math.max(0, this.pendingBytes - held.bytes);
    const allowance = this.controller.recordsPerBatch(this.partitionsSeen);
    // What was read beyond the allowance is paid back in the next interval, never later: a
    // surplus carried on at a low rate (the estimator's floor after a slow start) would keep a
    // source paused for minutes.
    this.intervalReceived =
      allowance === undefined
        ? 0
        : Math.min(allowance, Math.max(0, this.intervalReceived - allowance));
    this.carryPartitionSurplus();
    this.sharesUsed = false;
    if (tally.records > 0 && this.lastBacklog === undefined) {
      this.partitionsSeen = tally.partitions;
    }
  }

  /**
   * The batch at `batch.time` was processed: its records (and those of older batches) leave the
   * queue, and the rate estimator learns from it.
   */
  processed(batch: BatchObservation): void {
    for (const [time, held] of this.inFlight) {
      if (time > batch.time) continue;
      this.inFlight.delete(time);
      this.release(held);
    }
    this.controller.onBatchCompleted(batch);
  }

  // A new interval for every partition: what one read beyond its share carries over, as the
  // source-wide surplus does.
  private carryPartitionSurplus(): void {
    if (this.intervalReceivedByPartition.size === 0) return;
    const shares = this.recordsPerPartition();
    const next = new Map<string, number>();
    for (const [partition, received] of this.intervalReceivedByPartition) {
      const share = shares?.get(partition);
      const surplus = share === undefined ? 0 : Math.min(share, received - share);
      if (surplus > 0) next.set(partition, surplus);
    }
    this.intervalReceivedByPartition = next;
  }

  private release(held: Held): void {
    this.inFlightRecords -= held.records;
    this.inFlightBytes -= held.bytes;
  }

  // Full at the bound; room again once half of it was processed (no pause/resume flapping).
  private updateQueueFull(): void {
    if (this.queueFull) {
      this.queueFull =
        this.queuedRecords >= this.maxQueuedRecords / 2 ||
        this.queuedBytes >= this.maxQueuedBytes / 2;
    } else {
      this.queueFull =
        this.queuedRecords >= this.maxQueuedRecords || this.queuedBytes >= this.maxQueuedBytes;
    }
  }
}

/** The bytes a record holds in memory for flow control: its value and key. */
export function recordBytes(record: SourceRecord): number {
  return record.value.byteLength + (record.key?.byteLength ?? 0);
}

/** Records, bytes and partitions (at least 1) of what a batch took. */
function tallyOf(records: readonly SourceRecord[] | readonly SourceRecordColumns[]): {
  records: number;
  bytes: number;
  partitions: number;
} {
  const partitions = new Set<string>();
  let count = 0;
  let bytes = 0;
  for (const part of records) {
    if (part instanceof SourceRecordColumns) {
      count += part.length;
      bytes += part.byteLength;
      for (const partition of part.rowsPerPartition().keys()) partitions.add(partition);
    } else {
      count++;
      bytes += recordBytes(part);
      partitions.add(part.partition);
    }
  }
  return { records: count, bytes, partitions: Math.max(1, partitions.size) };
}

function requireBound(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${name} must be an integer of at least 1, got ${String(value)}`,
    );
  }
  return value;
}
