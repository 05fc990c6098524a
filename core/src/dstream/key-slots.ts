import { KeyedMap } from "../util/keyed-map.js";

/**
 * Keys numbered in first-seen order (their slots), with `KeyedMap`'s key equality: primitives
 * by value, arrays and objects by structure, the first key seen kept. A string key (most keys
 * are) finds its slot with one `Map` lookup, so whatever is kept per key lives in arrays indexed
 * by slot and a key seen before costs that one lookup, where a `Map` of values costs one to read
 * and another to write back. The inner loop of the shuffles of `reduceByKey` with a function and
 * of `reduceByKeyAndWindow` with an inverse.
 *
 * @example
 * const slots = new KeySlots<string>();
 * slots.add("a"); // 0
 * slots.slotOf("a"); // 0
 * slots.slotOf("b"); // -1
 */
export class KeySlots<K> {
  /** The slot of each string key. */
  private readonly strings = new Map<string, number>();
  /** The slot of every other key (numbers, objects, ...), with `KeyedMap`'s equality. */
  private others: KeyedMap<K, number> | undefined;
  /** Keys by slot, in first-seen order. */
  protected readonly keys: K[] = [];

  /** Number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /** The slot of `key`, or -1 when it has none. */
  slotOf(key: K): number {
    if (typeof key === "string") {
      const slot = this.strings.get(key);
      return slot === undefined ? -1 : slot;
    }
    const slot = this.others?.get(key);
    return slot === undefined ? -1 : slot;
  }

  /** Gives `key`, which has no slot yet, the next one; returns it. */
  add(key: K): number {
    const slot = this.keys.length;
    if (typeof key === "string") {
      this.strings.set(key, slot);
    } else {
      this.others ??= new KeyedMap<K, number>();
      this.others.set(key, slot);
    }
    this.keys.push(key);
    return slot;
  }

  /** The key in `slot` (the first of its equals seen). */
  keyAt(slot: number): K {
    return this.keys[slot] as K;
  }
}
