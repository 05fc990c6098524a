import type { IHeaders } from "kafkajs";
import type { SourceRecordColumns } from "sluice/connector";

/**
 * A message held by the source (made a record only as a row of a read's byte batch), with its
 * Kafka offset as a number for ordering.
 */
export interface HeldRecord {
  /** The message's own Kafka offset (its record's `offset` is this plus one). */
  readonly kafkaOffset: bigint;
  /**
   * The value and key as kafkajs gave them (views into its fetch response) until a read copies
   * them into its byte batch (`read`), then `null`: read again from row `row` of that batch
   * after a nack, so that the fetch response is not kept alive beside the copy (and no view
   * per record is made unless a nack asks for one).
   */
  value: Uint8Array | null;
  key: Uint8Array | null;
  readonly timestampMs: number;
  /**
   * kafkajs's headers with their binary values copied out of the fetch response
   * (`compactHeaders`), made record headers only when a record is asked for; none when empty.
   */
  readonly headers: IHeaders | undefined;
  /** The byte batch of the latest read that handed it out, if any. */
  read: SourceRecordColumns | undefined;
  /** Its row there. */
  row: number;
}

interface InFlight {
  readonly first: bigint;
  readonly next: bigint;
}

/**
 * What the source knows about one assigned Kafka partition: the records fetched but not yet
 * handed out (nacked ones again first, all in offset order), the reads not yet acknowledged,
 * and the offsets acknowledged and committed. A revoked partition's state is dropped whole;
 * reads that still refer to a dropped state neither commit nor requeue anything.
 *
 * @example
 * const state = new PartitionState("orders", 0);
 * state.accept([{ kafkaOffset: 0n, value, key: null, timestampMs: 0, headers: undefined, read: undefined, row: 0 }]);
 * const taken = state.take(10);
 * state.delivered(1, taken);
 * state.acked(1);
 * state.commitTarget(); // 1n
 */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The offset the next fetched record must have at least; undefined until known. */
  nextFetch: bigint | undefined;
  /** The last offset committed to Kafka by this source (the next record to read). */
  committed: bigint | undefined;
  /**
   * The partition's high watermark (the offset after its last record) as the latest fetch of
   * it reported; undefined until a fetch returned records.
   */
  highWatermark: bigint | undefined;
  #pending: HeldRecord[] = [];
  #redelivering = 0;
  #ackedNext: bigint | undefined;
  readonly #inFlight = new Map<number, InFlight>();

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** Records waiting to be handed out, nacked ones included. */
  get buffered(): number {
    return this.#pending.length;
  }

  /** Fetched records never handed out (what counts against the buffer limit). */
  get fresh(): number {
    return this.#pending.length - this.#redelivering;
  }

  /**
   * Records not yet fetched as far as this source knows: the high watermark of the latest fetch
   * minus the next offset to fetch (0 until a fetch reported a high watermark).
   */
  get lag(): number {
    if (this.highWatermark === undefined || this.nextFetch === undefined) return 0;
    const lag = this.highWatermark - this.nextFetch;
    return lag > 0n ? Number(lag) : 0;
  }

  /** Records waiting in this partition: held here (nacked ones included) plus the lag. */
  get backlog(): number {
    return this.buffered + this.lag;
  }

  /** True while reads of this partition are not acknowledged. */
  get hasInFlight(): boolean {
    return this.#inFlight.size > 0;
  }

  /** True while a read of this partition numbered `sequence` or lower is not acknowledged. */
  hasInFlightThrough(sequence: number): boolean {
    for (const read of this.#inFlight.keys()) if (read <= sequence) return true;
    return false;
  }

  /**
   * Adds fetched records, in offset order, skipping any below `nextFetch` (fetched again after
   * a rebalance or a reconnect, but already held or delivered). Returns those kept.
   */
  accept(records: readonly HeldRecord[]): HeldRecord[] {
    const kept: HeldRecord[] = [];
    for (const held of records) {
      if (this.nextFetch !== undefined && held.kafkaOffset < this.nextFetch) continue;
      this.#pending.push(held);
      this.nextFetch = held.kafkaOffset + 1n;
      kept.push(held);
    }
    return kept;
  }

  /** Takes up to `max` records to hand out, lowest offsets first. */
  take(max: number): HeldRecord[] {
    const taken = this.#pending.splice(0, Math.max(0, max));
    this.#redelivering = Math.max(0, this.#redelivering - taken.length);
    return taken;
  }

  /** Records that the read numbered `sequence` handed out. */
  delivered(sequence: number, records: readonly HeldRecord[]): void {
    const first = records[0];
    const last = records[records.length - 1];
    if (first === undefined || last === undefined) return;
    this.#inFlight.set(sequence, { first: first.kafkaOffset, next: last.kafkaOffset + 1n });
  }

  /** The read numbered `sequence` was acknowledged: its records are done. */
  acked(sequence: number): void {
    const read = this.#inFlight.get(sequence);
    if (read === undefined) return;
    this.#inFlight.delete(sequence);
    if (this.#ackedNext === undefined || read.next > this.#ackedNext) this.#ackedNext = read.next;
  }

  /** The read numbered `sequence` was nacked: its records are handed out again first. */
  nacked(sequence: number, records: readonly HeldRecord[]): void {
    if (!this.#inFlight.delete(sequence)) return;
    this.#pending = mergeByOffset(records, this.#pending);
    this.#redelivering += records.length;
  }

  /**
   * The offset to commit to Kafka now: the lowest offset not yet acknowledged (of a read in
   * flight, or a nacked record), else the end of the highest acknowledged read; undefined
   * when nothing new can be committed.
   */
  commitTarget(): bigint | undefined {
    if (this.#ackedNext === undefined) return undefined;
    let target = this.#ackedNext;
    const head = this.#pending[0];
    if (head !== undefined && head.kafkaOffset < target) target = head.kafkaOffset;
    for (const read of this.#inFlight.values()) if (read.first < target) target = read.first;
    if (this.committed !== undefined && target <= this.committed) return undefined;
    return target;
  }
}

function mergeByOffset(a: readonly HeldRecord[], b: readonly HeldRecord[]): HeldRecord[] {
  const merged: HeldRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.kafkaOffset <= right.kafkaOffset)) {
      merged.push(left as HeldRecord);
      i++;
    } else {
      merged.push(right);
      j++;
    }
  }
  return merged;
}
