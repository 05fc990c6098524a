import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";
import { CombinerTable } from "./combiner-table.js";
import { notAPair } from "./not-a-pair.js";

/** Spark's `Aggregator`: how values of one key are combined. */
export interface Aggregator<V, C> {
  /** Starts a combiner from a key's first value. */
  createCombiner(value: V): C;
  /** Adds a value to a combiner. */
  mergeValue(combiner: C, value: V): C;
  /** Merges two combiners of the same key. */
  mergeCombiners(left: C, right: C): C;
  /**
   * Set by `reduceByKey`: the combiner is the value itself and both merges are this function,
   * so partial results can be reduced again with it wherever they were made (a cluster job's
   * map side combines with it before its pairs cross between processes).
   */
  readonly reduce?: (left: C, right: C) => C;
}

type Pair<K, V> = readonly [K, V];

/**
 * The placement step of every shuffle of JS rows: each pair goes to its key's partition
 * (`partitionOfKey`, the kernels' placement), in row order.
 *
 * @example
 * placeRows([["a", 1], ["b", 2]], 2);
 */
export function placeRows<K, V>(
  rows: ReadonlyArray<Pair<K, V>>,
  numPartitions: number,
): Pair<K, V>[][] {
  if (numPartitions === 1) {
    for (const pair of rows) if (!Array.isArray(pair)) throw notAPair(pair, "a shuffle");
    return [rows.slice()];
  }
  const out: Pair<K, V>[][] = Array.from({ length: numPartitions }, () => []);
  for (const pair of rows) {
    if (!Array.isArray(pair)) throw notAPair(pair, "a shuffle");
    (out[partitionOfKey(pair[0], numPartitions)] as Pair<K, V>[]).push(pair);
  }
  return out;
}

/**
 * The map side of `combineByKey` over one partition: with `mapSideCombine` (Spark's default)
 * each key's values are combined here, in row order, and the combiners placed; without it the
 * raw pairs are placed.
 *
 * @example
 * combineMapSide([["a", 1], ["a", 2]], sum, 2, true); // [[["a", 3]], []] (when "a" goes to 0)
 */
export function combineMapSide<K, V, C>(
  records: ReadonlyArray<Pair<K, V>>,
  aggregator: Aggregator<V, C>,
  numPartitions: number,
  mapSideCombine: boolean,
): Pair<K, V | C>[][] {
  if (!mapSideCombine) return placeRows(records, numPartitions);
  const local = new CombinerTable<K, C>();
  const { createCombiner, mergeValue } = aggregator;
  for (let i = 0; i < records.length; i++) {
    const pair = records[i] as Pair<K, V>;
    if (!Array.isArray(pair)) throw notAPair(pair, "combineByKey's map side");
    local.merge(pair[0], pair[1], createCombiner, mergeValue);
  }
  return local.placedRows(numPartitions);
}

/**
 * The reduce side of `combineByKey` for one output partition: the map outputs merged in
 * map-partition order (combiners with `mergeCombiners`, or raw values with `mergeValue`). Keys
 * come out in first-seen order.
 *
 * @example
 * combineReduceSide([[["a", 3]], [["a", 4]]], sum, true); // [["a", 7]]
 */
export function combineReduceSide<K, V, C>(
  mapOutputs: ReadonlyArray<ReadonlyArray<Pair<K, unknown>>>,
  aggregator: Aggregator<V, C>,
  mapSideCombine: boolean,
): [K, C][] {
  const target = new CombinerTable<K, C>();
  const { createCombiner, mergeValue, mergeCombiners } = aggregator;
  for (const rows of mapOutputs) {
    for (let i = 0; i < rows.length; i++) {
      const pair = rows[i] as Pair<K, unknown>;
      if (mapSideCombine) target.mergeCombiner(pair[0], pair[1] as C, mergeCombiners);
      else target.merge(pair[0], pair[1] as V, createCombiner, mergeValue);
    }
  }
  return target.rows();
}

/**
 * The reduce side of `cogroup` for one output partition: per key, one array of values per
 * source, sources in order and each source's map outputs in map order. Keys come out in
 * first-seen order.
 *
 * @example
 * cogroupReduceSide([[[["a", 1]]], [[["a", "x"]]]]); // [["a", [[1], ["x"]]]]
 */
export function cogroupReduceSide<K>(
  sources: ReadonlyArray<ReadonlyArray<ReadonlyArray<Pair<K, unknown>>>>,
): [K, unknown[][]][] {
  const target = new KeyedMap<K, unknown[][]>();
  sources.forEach((mapOutputs, sourceIndex) => {
    for (const rows of mapOutputs) {
      for (const [key, value] of rows) {
        let groups = target.get(key);
        if (groups === undefined) {
          groups = sources.map(() => []);
          target.set(key, groups);
        }
        (groups[sourceIndex] as unknown[]).push(value);
      }
    }
  });
  return [...target];
}

/**
 * Combines every key's values of a batch and hash-partitions the result: `combineMapSide` over
 * each partition, then `combineReduceSide` per output partition — the shuffle's two sides run in
 * memory. With `mapSideCombine` the partial combiners are merged in partition order; without
 * it, values go to the key's combiner in row order. Keys come out in first-seen order within
 * each partition.
 *
 * @example
 * combineByKey(batch, { createCombiner: (v) => v, mergeValue: add, mergeCombiners: add }, 2, true);
 */
export function combineByKey<K, V, C>(
  batch: Batch<readonly [K, V]>,
  aggregator: Aggregator<V, C>,
  numPartitions: number,
  mapSideCombine: boolean,
): [K, C][][] {
  const mapOutputs = batch.partitions.map((records) =>
    combineMapSide(records, aggregator, numPartitions, mapSideCombine),
  );
  return Array.from({ length: numPartitions }, (_, partition) =>
    combineReduceSide(
      mapOutputs.map((buckets) => buckets[partition] as Pair<K, V | C>[]),
      aggregator,
      mapSideCombine,
    ),
  );
}

/**
 * Groups the pairs of several batches by key (Spark's `cogroup`): for every key present in any
 * of them, one array of values per source (empty where the source lacks the key). Keys come out
 * in first-seen order within each partition, sources read in the order given.
 *
 * @example
 * cogroup([left, right], 2); // [[["a", [[1], ["x"]]]], [["b", [[2], []]]]]
 */
export function cogroup<K>(
  sources: ReadonlyArray<Batch<readonly [K, unknown]>>,
  numPartitions: number,
): [K, unknown[][]][][] {
  const mapOutputs = sources.map((source) =>
    source.partitions.map((records) => placeRows(records, numPartitions)),
  );
  return Array.from({ length: numPartitions }, (_, partition) =>
    cogroupReduceSide(
      mapOutputs.map((side) => side.map((buckets) => buckets[partition] as Pair<K, unknown>[])),
    ),
  );
}

/**
 * Moves every pair to its key's partition, keeping row order within each partition (Spark's
 * `partitionBy` with a hash partitioner).
 *
 * @example
 * partitionByKey(batch, 4);
 */
export function partitionByKey<K, V>(
  batch: Batch<readonly [K, V]>,
  numPartitions: number,
): (readonly [K, V])[][] {
  const out: (readonly [K, V])[][] = Array.from({ length: numPartitions }, () => []);
  for (const partition of batch.partitions) {
    const placed = placeRows(partition, numPartitions);
    placed.forEach((rows, index) => {
      for (const row of rows) (out[index] as (readonly [K, V])[]).push(row);
    });
  }
  return out;
}
