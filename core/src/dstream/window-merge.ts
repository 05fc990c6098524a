import { SluiceError } from "../errors/sluice-error.js";
import type { Batch } from "./batch.js";
import { KeySlots } from "./key-slots.js";
import { cogroup } from "./shuffle.js";

/** The functions of `reduceByKeyAndWindow` with an inverse. */
export interface WindowFunctions<K, V> {
  readonly reduce: (a: V, b: V) => V;
  readonly inverse: (a: V, b: V) => V;
  readonly filter: ((pair: [K, V]) => boolean) | undefined;
}

/**
 * The partitions of a window of `reduceByKeyAndWindow` with an inverse, from `sources`: the
 * previous window, then the `numOld` per-batch reductions that left the window, then those that
 * entered it. Per key: the previous value minus (`inverse`) the reduction of the old values,
 * plus (`reduce`) that of the new ones, or the new values' reduction for a key not in the
 * previous window; a key in neither is an inconsistent window. Only a key's first value in each
 * source counts, keys come out in first-seen order over the sources in order, and `filter`
 * drops pairs: Spark's cogroup of the sources and its merge function.
 *
 * The per-batch reductions and the previous windows are placed by `partitionOfKey` into
 * `numPartitions` partitions (a window without a previous one has none), so each output
 * partition merges the same partition of every source, as Spark's cogroup of co-partitioned
 * inputs does, with no shuffle. Sources with another number of partitions (restored from a run
 * with another parallelism) are cogrouped first.
 *
 * @example
 * mergeWindows([previous, left, entered], 1, 2, { reduce: add, inverse: sub, filter: undefined }, 5000);
 */
export function mergeWindows<K, V>(
  sources: ReadonlyArray<Batch<readonly [K, V]>>,
  numOld: number,
  numPartitions: number,
  fns: WindowFunctions<K, V>,
  time: number,
): [K, V][][] {
  const placed = sources.every(
    (batch, index) =>
      batch.partitions.length === numPartitions || (index === 0 && batch.partitions.length === 0),
  );
  const partitions: [K, V][][] = [];
  if (placed) {
    for (let p = 0; p < numPartitions; p++) {
      const rows = sources.map((batch) => batch.partitions[p] ?? []);
      partitions.push(mergePartition(rows, numOld, fns, time));
    }
  } else {
    for (const partition of cogroup(sources, numPartitions)) {
      partitions.push(
        mergePartition(groupedRows<K, V>(partition, sources.length), numOld, fns, time),
      );
    }
  }
  return partitions;
}

/** Per source (previous window, old batches, new batches), one partition's `[key, value]` rows. */
type SourceRows<K, V> = ReadonlyArray<ReadonlyArray<readonly [K, V]>>;

/** No value from that source for that key. */
const ABSENT: unique symbol = Symbol("absent");

/**
 * One partition of the window at `time` from the same partition of the previous window
 * (`sources[0]`), of the `numOld` per-batch reductions that left the window and of those that
 * entered it: per key, the previous value minus (`inverse`) the reduction of the old values,
 * plus (`reduce`) that of the new ones. Only a key's first row in each source counts, as in a
 * cogroup. Keys come out in first-seen order over the sources in order; `filter` drops pairs.
 */
function mergePartition<K, V>(
  sources: SourceRows<K, V>,
  numOld: number,
  fns: WindowFunctions<K, V>,
  time: number,
): [K, V][] {
  const { reduce, inverse, filter } = fns;
  const slots = new KeySlots<K>();
  const previous: Array<V | typeof ABSENT> = [];
  const old: Array<V | typeof ABSENT> = [];
  const added: Array<V | typeof ABSENT> = [];
  // The last source that gave each key a value: a key's later rows in one source are ignored.
  const lastSource: number[] = [];
  for (let source = 0; source < sources.length; source++) {
    const rows = sources[source] as ReadonlyArray<readonly [K, V]>;
    const into = source === 0 ? previous : source <= numOld ? old : added;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as readonly [K, V];
      let slot = slots.slotOf(row[0]);
      if (slot < 0) {
        slot = slots.add(row[0]);
        previous.push(ABSENT);
        old.push(ABSENT);
        added.push(ABSENT);
        lastSource.push(-1);
      } else if (lastSource[slot] === source) {
        continue;
      }
      lastSource[slot] = source;
      const sofar = into[slot] as V | typeof ABSENT;
      into[slot] = sofar === ABSENT ? row[1] : reduce(sofar, row[1]);
    }
  }
  const out: [K, V][] = [];
  for (let slot = 0; slot < slots.size; slot++) {
    const key = slots.keyAt(slot);
    const before = previous[slot] as V | typeof ABSENT;
    const left = old[slot] as V | typeof ABSENT;
    const entered = added[slot] as V | typeof ABSENT;
    let value: V;
    if (before === ABSENT) {
      if (entered === ABSENT) {
        throw new SluiceError(
          "SLUICE_INCONSISTENT_WINDOW",
          `reduceByKeyAndWindow at ${time} ms: key ${String(key)} left the window but was not in the previous window; a filter must only drop keys whose value is the identity (such as a zero count)`,
        );
      }
      value = entered;
    } else {
      value = before;
      if (left !== ABSENT) value = inverse(value, left);
      if (entered !== ABSENT) value = reduce(value, entered);
    }
    const pair: [K, V] = [key, value];
    if (filter === undefined || filter(pair)) out.push(pair);
  }
  return out;
}

/** A cogrouped partition's groups as rows per source (each key's values in its group's order). */
function groupedRows<K, V>(
  partition: ReadonlyArray<[K, unknown[][]]>,
  numSources: number,
): SourceRows<K, V> {
  const out: [K, V][][] = Array.from({ length: numSources }, () => []);
  for (const [key, groups] of partition) {
    groups.forEach((values, source) => {
      for (const value of values) (out[source] as [K, V][]).push([key, value as V]);
    });
  }
  return out;
}
