import type { Admin, KafkaMessage } from "kafkajs";
import type { KeyedConsumer } from "./keyed-consumer.js";

/** One range of a changelog partition being read. */
interface RangeRead {
  readonly from: bigint;
  readonly end: bigint;
  last: ChangelogValue | undefined;
  /** Every committed record of the range, by offset, when the whole range is wanted. */
  readonly all: Map<bigint, Buffer | null> | undefined;
  /** Settles when the read passed `end` (or was dropped by a rebalance). */
  readonly finished: Promise<void>;
  readonly finish: () => void;
  /** The restore waiting for it; undefined once a newer restore took its place. */
  waiter: { resolve: (found: RangeResult) => void; reject: (error: unknown) => void } | undefined;
}

/** A committed record of the changelog: its offset and value (null: a tombstone). */
export interface ChangelogValue {
  readonly offset: bigint;
  readonly value: Buffer | null;
}

/** What a range held: its last committed record and (when asked for) every one, or nothing. */
type RangeResult =
  | { readonly last: ChangelogValue; readonly all: ReadonlyMap<bigint, Buffer | null> | undefined }
  | undefined;

/** The first range read ends at the last stable offset and starts this many offsets before it. */
const FIRST_RANGE = 16n;

/**
 * Reads the last committed record of a changelog partition through the keyed consumer: from a
 * little before the partition's last stable offset (a commit is one record and its transaction
 * marker), going further back only when that range holds no committed record (aborted commits),
 * so a restore does not read the whole partition; a commit written in parts has its parts read
 * as a range before its manifest (`range`). A partition is read by one restore at a
 * time: a newer restore waits until the older one's read passed its end, so no fetch of the
 * older read is taken for the newer one.
 *
 * @example
 * const reader = new ChangelogReader(consumer, admin, "wc.sluice-changelog");
 * const value = await reader.last(3);
 */
export class ChangelogReader {
  readonly #consumer: KeyedConsumer;
  readonly #admin: Admin;
  readonly topic: string;
  readonly #reads = new Map<number, RangeRead>();

  constructor(consumer: KeyedConsumer, admin: Admin, topic: string) {
    this.#consumer = consumer;
    this.#admin = admin;
    this.topic = topic;
  }

  /**
   * The last committed record of `partition` (undefined: none, or a tombstone).
   * `superseded` is the error an older restore of the same partition fails with.
   */
  async last(
    partition: number,
    superseded: () => Error,
  ): Promise<{ offset: bigint; value: Buffer } | undefined> {
    const previous = this.#reads.get(partition);
    if (previous !== undefined) {
      previous.waiter?.reject(superseded());
      previous.waiter = undefined;
      await previous.finished;
    }
    const offsets = await this.#admin.fetchTopicOffsets(this.topic);
    const found = offsets.find((entry) => entry.partition === partition);
    if (found === undefined) return undefined;
    const low = BigInt(found.low);
    const end = BigInt(found.offset);
    let from = max(low, end - FIRST_RANGE);
    for (;;) {
      if (end <= from) return undefined;
      const result = await this.#readRange(partition, from, end, false);
      if (result !== undefined) {
        const { offset, value } = result.last;
        return value === null ? undefined : { offset, value };
      }
      if (from === low) return undefined;
      from = max(low, end - (end - from) * 8n);
    }
  }

  /**
   * The committed records of `partition` from `from` up to `end` (exclusive), in offset order:
   * the parts of a commit written in parts, right before its manifest. Offsets without a
   * committed record (an aborted write, a transaction's marker) are left out.
   *
   * @example
   * const parts = await reader.range(3, manifestOffset - 4n, manifestOffset);
   */
  async range(partition: number, from: bigint, end: bigint): Promise<(Buffer | null)[]> {
    if (end <= from) return [];
    const result = await this.#readRange(partition, from, end, true);
    if (result?.all === undefined) return [];
    return [...result.all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /** Takes fetched records of a partition being read. */
  records(partition: number, messages: readonly KafkaMessage[]): void {
    const read = this.#reads.get(partition);
    if (read === undefined) return;
    for (const message of messages) {
      const offset = BigInt(message.offset);
      if (offset < read.from || offset >= read.end) continue;
      if (read.last === undefined || offset > read.last.offset) {
        read.last = { offset, value: message.value };
      }
      read.all?.set(offset, message.value);
    }
  }

  /** The consumer passed `lastOffset` of a partition being read. */
  progressed(partition: number, lastOffset: bigint): void {
    const read = this.#reads.get(partition);
    if (read === undefined || lastOffset < read.end - 1n) return;
    this.#reads.delete(partition);
    this.#consumer.stop(this.topic, partition);
    read.finish();
    read.waiter?.resolve(read.last === undefined ? undefined : { last: read.last, all: read.all });
  }

  /** Drops every read (a rebalance paused the partitions, or the exchange closes). */
  cancelAll(error: (partition: number) => unknown): void {
    for (const [partition, read] of this.#reads) {
      read.finish();
      read.waiter?.reject(error(partition));
    }
    this.#reads.clear();
  }

  #readRange(partition: number, from: bigint, end: bigint, all: boolean): Promise<RangeResult> {
    return new Promise<RangeResult>((resolve, reject) => {
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((done) => {
        finish = done;
      });
      this.#reads.set(partition, {
        from,
        end,
        last: undefined,
        all: all ? new Map() : undefined,
        finished,
        finish,
        waiter: { resolve, reject },
      });
      this.#consumer.read(this.topic, partition, from);
    });
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
