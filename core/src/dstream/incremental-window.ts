import { SluiceError } from "../errors/sluice-error.js";
import { KeyedMap } from "../util/keyed-map.js";
import type { Batch } from "./batch.js";
import { partitionCountOf, type TextPairs, TextPairsBatch } from "./text-pairs-batch.js";
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
    return this.leave(previous, old, time).enter(added);
  }

  /**
   * The first half of `next`: takes the per-batch reductions that left the window out of the
   * previous window now (`inverse`), before those that entered it are known, so that this work
   * runs while they are still being computed (on executors). `enter` on what it returns gives
   * the same partitions as `next`. Until `enter` returns, there is no window to start from.
   *
   * @example
   * const slide = windows.leave(previous, [left], 5000);
   * const partitions = slide.enter(await entered);
   */
  leave(
    previous: Batch<readonly [K, V]>,
    old: ReadonlyArray<Batch<readonly [K, V]>>,
    time: number,
  ): WindowSlide<K, V> {
    const { numPartitions, fns } = this;
    const last = this.last;
    // A failure from here on leaves no window to start from.
    this.last = undefined;
    const unplaced = (batches: ReadonlyArray<Batch<readonly [K, V]>>) =>
      batches.some((batch) => partitionCountOf(batch) !== numPartitions);
    const merged = (added: ReadonlyArray<Batch<readonly [K, V]>>) =>
      mergeWindows([previous, ...old, ...added], old.length, numPartitions, fns, time);
    if (
      (previous.partitions.length !== numPartitions && previous.partitions.length !== 0) ||
      unplaced(old)
    ) {
      return { enter: merged };
    }
    const states =
      last !== undefined && last.batch === previous
        ? last.partitions
        : Array.from(
            { length: numPartitions },
            (_, p) => new WindowPartition<K, V>(previous.partitions[p] ?? []),
          );
    const touched = states.map((state, p) =>
      state.leave(
        old.map((batch) => sourceOf(batch, p)),
        fns,
      ),
    );
    let entered = false;
    return {
      enter: (added) => {
        if (entered) {
          throw new SluiceError(
            "SLUICE_ILLEGAL_STATE",
            `reduceByKeyAndWindow at ${time} ms: the window was already made from this slide`,
          );
        }
        entered = true;
        // Sources not placed into the window's partitions: cogrouped from the previous window,
        // which the slide did not change (its rows are not the state's).
        if (unplaced(added)) return merged(added);
        const out = states.map((state, p) =>
          state.enter(
            touched[p] as number[],
            old.length,
            added.map((batch) => sourceOf(batch, p)),
            fns,
            time,
          ),
        );
        this.last = { partitions: states, batch: undefined };
        return out;
      },
    };
  }

  /** The batch the partitions `next` gave last were made into (the next window starts from it). */
  made(batch: Batch<unknown>): void {
    if (this.last !== undefined && this.last.batch === undefined) this.last.batch = batch;
  }
}

/** A window taken halfway by `IncrementalWindow.leave`: the batches that left are out of it. */
export interface WindowSlide<K, V> {
  /** The partitions of the window with `added` (the per-batch reductions that entered it). */
  enter(added: ReadonlyArray<Batch<readonly [K, V]>>): [K, V][][];
}

/** Rows of one partition of one per-batch reduction. */
type Rows<K, V> = ReadonlyArray<readonly [K, V]>;

/**
 * One partition of one per-batch reduction as the window reads it: rows, or the text pairs an
 * executor sent (`[string, number]` rows never made).
 */
type Source<K, V> = Rows<K, V> | TextPairs;

/** Partition `p` of `batch`, as text pairs when it holds them. */
function sourceOf<K, V>(batch: Batch<readonly [K, V]>, p: number): Source<K, V> {
  if (batch instanceof TextPairsBatch) return batch.columns[p] ?? EMPTY;
  return batch.partitions[p] ?? [];
}

const EMPTY: Rows<never, never> = [];

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
  /**
   * The slot of each row of the per-batch reductions that entered the window, by their rows:
   * when they leave it, their keys need no lookup. Valid while the slots stay where they are
   * (until `compact` moves them, which starts a new `slotsOfRows`).
   */
  private slotsOfRows = new WeakMap<Source<K, V>, Int32Array>();

  /** The partition of a window given as rows (only a key's first row counts). */
  constructor(rows: Rows<K, V>) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as readonly [K, V];
      if (this.slotOf(row[0]) < 0) this.values[this.add(row[0])] = row[1];
    }
  }

  /**
   * The first half of a slide: reduces what left (`old`, one source per batch) per key and
   * takes it out of the key's value (`inverse`); gives the slots it touched, for `enter`.
   */
  leave(old: ReadonlyArray<Source<K, V>>, fns: WindowFunctions<K, V>): number[] {
    const touched: number[] = [];
    this.reduceSources(old, 0, this.old, touched, fns, false);
    const { inverse } = fns;
    for (const slot of touched) {
      const before = this.values[slot] as Maybe<V>;
      // A key not in the previous window keeps no value: `enter` checks that it entered.
      if (before !== ABSENT) this.values[slot] = inverse(before, this.old[slot] as V);
    }
    return touched;
  }

  /**
   * The second half of a slide: adds what entered (`added`) to the keys' values and gives this
   * partition's rows: the keys of the previous window in order, then those that entered in
   * first-seen order; `filter` drops pairs (and their keys). `touched` is what `leave` gave, and
   * `firstSource` the number of sources it reduced.
   */
  enter(
    touched: number[],
    firstSource: number,
    added: ReadonlyArray<Source<K, V>>,
    fns: WindowFunctions<K, V>,
    time: number,
  ): [K, V][] {
    const { reduce, filter } = fns;
    this.reduceSources(added, firstSource, this.added, touched, fns, true);
    try {
      for (let i = 0; i < touched.length; i++) {
        const slot = touched[i] as number;
        const before = this.values[slot] as Maybe<V>;
        const entered = this.added[slot] as Maybe<V>;
        if (before === ABSENT) {
          if (entered === ABSENT) {
            throw new SluiceError(
              "SLUICE_INCONSISTENT_WINDOW",
              `reduceByKeyAndWindow at ${time} ms: key ${String(this.keys[slot])} left the window but was not in the previous window; a filter must only drop keys whose value is the identity (such as a zero count)`,
            );
          }
          this.values[slot] = entered;
        } else if (entered !== ABSENT) {
          // Slots touched only now had nothing taken out: their value is the previous window's.
          this.values[slot] = reduce(before, entered);
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

  /**
   * Reduces the rows of `sources` (numbered from `firstSource`; only a key's first row in a
   * source counts) per key into `into`, giving every key not seen yet a slot and adding each
   * slot it touches for the first time in this slide to `touched`. With `remember`, notes the
   * slot of every row (`slotsOfRows`); otherwise uses the slots noted when the rows entered.
   */
  private reduceSources(
    sources: ReadonlyArray<Source<K, V>>,
    firstSource: number,
    into: Maybe<V>[],
    touched: number[],
    fns: WindowFunctions<K, V>,
    remember: boolean,
  ): void {
    const { reduce } = fns;
    for (let index = 0; index < sources.length; index++) {
      const given = sources[index] as Source<K, V>;
      const source = firstSource + index;
      if (!Array.isArray(given)) {
        this.reduceTextPairs(given as TextPairs, source, into, touched, fns, remember);
        continue;
      }
      const rows = given as Rows<K, V>;
      const noted = remember ? undefined : this.slotsOfRows.get(rows);
      const noting = remember ? new Int32Array(rows.length) : undefined;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as readonly [K, V];
        // A noted slot whose key was dropped since (filtered out: no value) is looked up again,
        // as a key that left without being in the window is.
        let slot = noted === undefined ? -1 : (noted[i] as number);
        if (slot < 0 || this.values[slot] === ABSENT) slot = this.slotOrNew(row[0]);
        if (noting !== undefined) noting[i] = slot;
        this.reduceInto(slot, row[1], source, into, touched, reduce);
      }
      if (noting !== undefined) this.slotsOfRows.set(rows, noting);
    }
  }

  /**
   * `reduceSources` for one source of text pairs: the same steps, with each key sliced from the
   * text only when it is looked up (a noted slot needs no key) and each value read from its
   * column.
   */
  private reduceTextPairs(
    pairs: TextPairs,
    source: number,
    into: Maybe<V>[],
    touched: number[],
    fns: WindowFunctions<K, V>,
    remember: boolean,
  ): void {
    const { reduce } = fns;
    const { text, ends } = pairs;
    const values = pairs.values as unknown as ArrayLike<V>;
    const noted = remember ? undefined : this.slotsOfRows.get(pairs);
    const noting = remember ? new Int32Array(ends.length) : undefined;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i] as number;
      let slot = noted === undefined ? -1 : (noted[i] as number);
      if (slot < 0 || this.values[slot] === ABSENT)
        slot = this.slotOrNew(text.slice(start, end) as K);
      start = end;
      if (noting !== undefined) noting[i] = slot;
      this.reduceInto(slot, values[i] as V, source, into, touched, reduce);
    }
    if (noting !== undefined) this.slotsOfRows.set(pairs, noting);
  }

  /**
   * Reduces `value` of source `source` into `into[slot]`, when it is the source's first value for
   * the slot's key, noting the slot in `touched` the first time the slide touches it.
   */
  private reduceInto(
    slot: number,
    value: V,
    source: number,
    into: Maybe<V>[],
    touched: number[],
    reduce: (a: V, b: V) => V,
  ): void {
    if (this.lastSource[slot] === source) return;
    if (this.lastSource[slot] === -1) touched.push(slot);
    this.lastSource[slot] = source;
    const sofar = into[slot] as Maybe<V>;
    into[slot] = sofar === ABSENT ? value : reduce(sofar, value);
  }

  /** The slot of `key`, or a new one (with no value) when the key has none. */
  private slotOrNew(key: K): number {
    const slot = this.slotOf(key);
    if (slot >= 0) return slot;
    const added = this.add(key);
    this.values[added] = ABSENT;
    return added;
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
    this.slotsOfRows = new WeakMap();
    this.live = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      const value = values[slot] as Maybe<V>;
      if (value !== ABSENT) this.values[this.add(keys[slot] as K)] = value;
    }
  }
}
