import { SluiceError } from "../errors/sluice-error.js";
import { KeyedMap } from "../util/keyed-map.js";
import type { Batch } from "./batch.js";
import { mergeWindows, type WindowFunctions } from "./window-merge.js";

/** No value from that source for that key (or no key in that slot any more). */
const ABSENT: unique symbol = Symbol("absent");
type Maybe<V> = V | typeof ABSENT;

/**
 * The windows of `reduceByKeyAndWindow` with an inverse, one after the other, each from the
 * window before it (Spark's `ReducedWindowedDStream`). It keeps the last window it made, per
 * partition, as keys in output order with their values: when the next window is made from that
 * same batch, only the keys of the per-batch reductions that left or entered the window are
 * looked up, where `mergeWindows` indexes every key of the previous window again. The result
 * is `mergeWindows`' (the same values, computed in the same order, and the same keys in the
 * same order: those of the previous window, then the keys that entered, in first-seen order);
 * from any other previous batch (restored, or one this did not make last) it first indexes
 * that batch, and sources not placed into the window's partitions go to `mergeWindows`.
 *
 * @example
 * const windows = new IncrementalWindow(2, { reduce: add, inverse: sub, filter: undefined });
 * const partitions = windows.next(previous, [left], [entered], 5000);
 * windows.made({ time: 5000, partitions });
 */
export class IncrementalWindow<K, V> {
  /** The partitions of the last window made, and what they were made into. */
  private last:
    | { partitions: WindowPartition<K, V>[]; batch: Batch<unknown> | undefined }
    | undefined;

  constructor(
    private readonly numPartitions: number,
    private readonly fns: WindowFunctions<K, V>,
  ) {}

  /**
   * The partitions of the window at `time` from the previous window, the per-batch reductions
   * that left it (`old`) and those that entered it (`added`). Call `made` with the batch built
   * of them, so that the next window can start from it.
   */
  next(
    previous: Batch<readonly [K, V]>,
    old: ReadonlyArray<Batch<readonly [K, V]>>,
    added: ReadonlyArray<Batch<readonly [K, V]>>,
    time: number,
  ): [K, V][][] {
    const { numPartitions, fns } = this;
    const last = this.last;
    // A failure below leaves no window to start from.
    this.last = undefined;
    const placed =
      (previous.partitions.length === numPartitions || previous.partitions.length === 0) &&
      [...old, ...added].every((batch) => batch.partitions.length === numPartitions);
    if (!placed) {
      return mergeWindows([previous, ...old, ...added], old.length, numPartitions, fns, time);
    }
    const states =
      last !== undefined && last.batch === previous
        ? last.partitions
        : Array.from(
            { length: numPartitions },
            (_, p) => new WindowPartition<K, V>(previous.partitions[p] ?? []),
          );
    const out = states.map((state, p) =>
      state.slide(
        old.map((batch) => batch.partitions[p] ?? []),
        added.map((batch) => batch.partitions[p] ?? []),
        fns,
        time,
      ),
    );
    this.last = { partitions: states, batch: undefined };
    return out;
  }

  /** The batch the partitions `next` gave last were made into (the next window starts from it). */
  made(batch: Batch<unknown>): void {
    if (this.last !== undefined && this.last.batch === undefined) this.last.batch = batch;
  }
}

/** Rows of one partition of one per-batch reduction. */
type Rows<K, V> = ReadonlyArray<readonly [K, V]>;

/**
 * One partition of the last window: its keys in output order (slots; a key that left has an
 * empty slot and no index entry, and comes back in a new slot at the end) and their values.
 */
class WindowPartition<K, V> {
  private readonly strings = new Map<string, number>();
  private others: KeyedMap<K, number> | undefined;
  private keys: K[] = [];
  private values: Maybe<V>[] = [];
  private live = 0;
  /** Per slot, during a slide: the reduction of what left and of what entered. */
  private old: Maybe<V>[] = [];
  private added: Maybe<V>[] = [];
  /** Per slot, during a slide: the last source that gave the key a value (first value counts). */
  private lastSource: number[] = [];

  /** The partition of a window given as rows (only a key's first row counts). */
  constructor(rows: Rows<K, V>) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as readonly [K, V];
      if (this.slotOf(row[0]) < 0) this.values[this.add(row[0])] = row[1];
    }
  }

  /**
   * Moves this partition to the next window and gives its rows: the keys of the previous
   * window in order, then those that entered in first-seen order; `filter` drops pairs (and
   * their keys).
   */
  slide(
    old: ReadonlyArray<Rows<K, V>>,
    added: ReadonlyArray<Rows<K, V>>,
    fns: WindowFunctions<K, V>,
    time: number,
  ): [K, V][] {
    const { reduce, inverse, filter } = fns;
    const touched: number[] = [];
    const sources = [...old, ...added];
    for (let source = 0; source < sources.length; source++) {
      const rows = sources[source] as Rows<K, V>;
      const into = source < old.length ? this.old : this.added;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as readonly [K, V];
        let slot = this.slotOf(row[0]);
        if (slot < 0) {
          slot = this.add(row[0]);
          this.values[slot] = ABSENT;
        } else if (this.lastSource[slot] === source) {
          continue;
        }
        if (this.lastSource[slot] === -1) touched.push(slot);
        this.lastSource[slot] = source;
        const sofar = into[slot] as Maybe<V>;
        into[slot] = sofar === ABSENT ? row[1] : reduce(sofar, row[1]);
      }
    }
    try {
      for (const slot of touched) {
        const before = this.values[slot] as Maybe<V>;
        const left = this.old[slot] as Maybe<V>;
        const entered = this.added[slot] as Maybe<V>;
        if (before === ABSENT) {
          if (entered === ABSENT) {
            throw new SluiceError(
              "SLUICE_INCONSISTENT_WINDOW",
              `reduceByKeyAndWindow at ${time} ms: key ${String(this.keys[slot])} left the window but was not in the previous window; a filter must only drop keys whose value is the identity (such as a zero count)`,
            );
          }
          this.values[slot] = entered;
        } else {
          let value = before;
          if (left !== ABSENT) value = inverse(value, left);
          if (entered !== ABSENT) value = reduce(value, entered);
          this.values[slot] = value;
        }
      }
    } finally {
      for (const slot of touched) {
        this.old[slot] = ABSENT;
        this.added[slot] = ABSENT;
        this.lastSource[slot] = -1;
      }
    }
    const out: [K, V][] = [];
    const { keys, values } = this;
    for (let slot = 0; slot < keys.length; slot++) {
      const value = values[slot] as Maybe<V>;
      if (value === ABSENT) continue;
      const pair: [K, V] = [keys[slot] as K, value];
      if (filter === undefined || filter(pair)) out.push(pair);
      else this.remove(slot);
    }
    if (keys.length > 1024 && this.live * 2 < keys.length) this.compact();
    return out;
  }

  private slotOf(key: K): number {
    if (typeof key === "string") {
      const slot = this.strings.get(key);
      return slot === undefined ? -1 : slot;
    }
    const slot = this.others?.get(key);
    return slot === undefined ? -1 : slot;
  }

  private add(key: K): number {
    const slot = this.keys.length;
    if (typeof key === "string") {
      this.strings.set(key, slot);
    } else {
      this.others ??= new KeyedMap<K, number>();
      this.others.set(key, slot);
    }
    this.keys.push(key);
    this.values.push(ABSENT);
    this.old.push(ABSENT);
    this.added.push(ABSENT);
    this.lastSource.push(-1);
    this.live++;
    return slot;
  }

  private remove(slot: number): void {
    const key = this.keys[slot] as K;
    if (typeof key === "string") this.strings.delete(key);
    else this.others?.delete(key);
    this.values[slot] = ABSENT;
    this.live--;
  }

  /** Drops the empty slots, keeping the order. */
  private compact(): void {
    const { keys, values } = this;
    this.strings.clear();
    this.others = undefined;
    this.keys = [];
    this.values = [];
    this.old = [];
    this.added = [];
    this.lastSource = [];
    this.live = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      const value = values[slot] as Maybe<V>;
      if (value !== ABSENT) this.values[this.add(keys[slot] as K)] = value;
    }
  }
}
