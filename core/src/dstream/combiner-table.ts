import type { AllocateBuffer } from "../kernels/key-column.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import { KeySlots } from "./key-slots.js";
import { MAX_TEXT_PAIRS_TEXT, type TextPairs } from "./text-pairs-batch.js";

/**
 * The combiners of one side of a shuffle, one per key in first-seen order (`KeySlots`): a value
 * merged into a key seen before costs one lookup. The map side of `reduceByKey`/`combineByKey`
 * with functions merges values into it, the reduce side combiners.
 *
 * @example
 * const table = new CombinerTable<string, number>();
 * const add = (a: number, b: number) => a + b;
 * table.merge("a", 1, (v: number) => v, add);
 * table.merge("a", 2, (v: number) => v, add);
 * table.rows(); // [["a", 3]]
 */
export class CombinerTable<K, C> extends KeySlots<K> {
  /** Combiners by slot. */
  private readonly combiners: C[] = [];

  /**
   * Merges `value` into `key`'s combiner (`mergeValue(combiner, value)`), or starts it with
   * `create(value)` when `key` is new.
   */
  merge<V>(
    key: K,
    value: V,
    create: (value: V) => C,
    mergeValue: (combiner: C, value: V) => C,
  ): void {
    const slot = this.slotOf(key);
    if (slot >= 0) {
      this.combiners[slot] = mergeValue(this.combiners[slot] as C, value);
    } else {
      const combiner = create(value);
      this.add(key);
      this.combiners.push(combiner);
    }
  }

  /**
   * Merges `combiner` into `key`'s combiner (`mergeCombiners(current, combiner)`), or keeps it
   * as the key's combiner when `key` is new.
   */
  mergeCombiner(key: K, combiner: C, mergeCombiners: (left: C, right: C) => C): void {
    const slot = this.slotOf(key);
    if (slot >= 0) {
      this.combiners[slot] = mergeCombiners(this.combiners[slot] as C, combiner);
    } else {
      this.add(key);
      this.combiners.push(combiner);
    }
  }

  /** Every `[key, combiner]` in first-seen order. */
  rows(): [K, C][] {
    const { keys, combiners } = this;
    const out = new Array<[K, C]>(keys.length);
    for (let slot = 0; slot < keys.length; slot++) {
      out[slot] = [keys[slot] as K, combiners[slot] as C];
    }
    return out;
  }

  /**
   * Every `[key, combiner]` in its key's partition (`partitionOfKey`), in first-seen order within
   * each: what `placeRows` makes of `rows()`.
   */
  placedRows(numPartitions: number): [K, C][][] {
    if (numPartitions === 1) return [this.rows()];
    const { keys, combiners } = this;
    const out: [K, C][][] = Array.from({ length: numPartitions }, () => []);
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot] as K;
      (out[partitionOfKey(key, numPartitions)] as [K, C][]).push([key, combiners[slot] as C]);
    }
    return out;
  }

  /**
   * What `placedRows` gives, as text pairs per partition (their arrays allocated by
   * `allocate`), or `undefined` when a key is not a string, a combiner not a number, or a
   * partition's keys too long for one string: the rows as they cross threads, with no row made.
   */
  placedTextPairs(numPartitions: number, allocate: AllocateBuffer): TextPairs[] | undefined {
    const { keys, combiners } = this;
    const keysOf: string[][] = Array.from({ length: numPartitions }, () => []);
    const slotsOf: number[][] = Array.from({ length: numPartitions }, () => []);
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot];
      if (typeof key !== "string" || typeof combiners[slot] !== "number") return undefined;
      const partition = partitionOfKey(key, numPartitions);
      (keysOf[partition] as string[]).push(key);
      (slotsOf[partition] as number[]).push(slot);
    }
    const out: TextPairs[] = [];
    for (let partition = 0; partition < numPartitions; partition++) {
      const partitionKeys = keysOf[partition] as string[];
      const slots = slotsOf[partition] as number[];
      const ends = new Uint32Array(allocate(slots.length * Uint32Array.BYTES_PER_ELEMENT));
      const values = new Float64Array(allocate(slots.length * Float64Array.BYTES_PER_ELEMENT));
      let end = 0;
      for (let row = 0; row < slots.length; row++) {
        end += (partitionKeys[row] as string).length;
        ends[row] = end;
        values[row] = combiners[slots[row] as number] as number;
      }
      if (end > MAX_TEXT_PAIRS_TEXT) return undefined;
      out.push({ text: partitionKeys.join(""), ends, values });
    }
    return out;
  }
}
