import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";

/** Spark's `Aggregator`: how values of one key are combined. */
export interface Aggregator<V, C> {
  /** Starts a combiner from a key's first value. */
  createCombiner(value: V): C;
  /** Adds a value to a combiner. */
  mergeValue(combiner: C, value: V): C;
  /** Merges two combiners of the same key. */
  mergeCombiners(left: C, right: C): C;
}

/**
 * Combines every key's values of a batch and hash-partitions the result (`partitionOfKey`). With
 * `mapSideCombine` (Spark's default), each input partition combines its own values first and the
 * partial combiners are merged in partition order; without it, values go straight to the key's
 * combiner in row order. Keys come out in first-seen order within each partition.
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
  const out = Array.from({ length: numPartitions }, () => new KeyedMap<K, C>());
  for (const partition of batch.partitions) {
    if (mapSideCombine) {
      const local = new KeyedMap<K, C>();
      for (const [key, value] of partition) {
        local.set(
          key,
          local.has(key)
            ? aggregator.mergeValue(local.get(key) as C, value)
            : aggregator.createCombiner(value),
        );
      }
      for (const [key, combiner] of local) {
        const target = out[partitionOfKey(key, numPartitions)] as KeyedMap<K, C>;
        target.set(
          key,
          target.has(key) ? aggregator.mergeCombiners(target.get(key) as C, combiner) : combiner,
        );
      }
    } else {
      for (const [key, value] of partition) {
        const target = out[partitionOfKey(key, numPartitions)] as KeyedMap<K, C>;
        target.set(
          key,
          target.has(key)
            ? aggregator.mergeValue(target.get(key) as C, value)
            : aggregator.createCombiner(value),
        );
      }
    }
  }
  return out.map((group) => [...group]);
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
  const out = Array.from({ length: numPartitions }, () => new KeyedMap<K, unknown[][]>());
  sources.forEach((source, sourceIndex) => {
    for (const partition of source.partitions) {
      for (const [key, value] of partition) {
        const target = out[partitionOfKey(key, numPartitions)] as KeyedMap<K, unknown[][]>;
        let groups = target.get(key);
        if (groups === undefined) {
          groups = sources.map(() => []);
          target.set(key, groups);
        }
        (groups[sourceIndex] as unknown[]).push(value);
      }
    }
  });
  return out.map((group) => [...group]);
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
    for (const pair of partition) {
      (out[partitionOfKey(pair[0], numPartitions)] as (readonly [K, V])[]).push(pair);
    }
  }
  return out;
}
