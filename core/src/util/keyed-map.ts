import { canonicalKey } from "./canonical-key.js";

/** Stands in for an object key inside the primitive-keyed map; unique per canonical text. */
type ObjectKeyToken = symbol;

/**
 * An insertion-ordered map with Sluice's key equality: primitives (string, number, bigint,
 * boolean, null, undefined, symbol) compare by value as in a `Map`; arrays and objects compare by
 * structure through `canonicalKey`. The first key seen is the one kept and returned.
 *
 * @example
 * const groups = new KeyedMap<[string, number], number>();
 * groups.set(["a", 1], 1);
 * groups.get(["a", 1]); // 1 — a different array with the same contents
 */
export class KeyedMap<K, V> {
  private readonly entries = new Map<unknown, { key: K; value: V }>();
  private readonly objectTokens = new Map<string, ObjectKeyToken>();

  /** Number of keys. */
  get size(): number {
    return this.entries.size;
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.entries.get(this.lookupId(key))?.value;
  }

  /** True when `key` is present. */
  has(key: K): boolean {
    return this.entries.has(this.lookupId(key));
  }

  /** Stores `value` under `key`; an existing key keeps its position. */
  set(key: K, value: V): this {
    const id = this.insertId(key);
    const entry = this.entries.get(id);
    if (entry === undefined) this.entries.set(id, { key, value });
    else entry.value = value;
    return this;
  }

  /** Removes `key`; true when it was present. */
  delete(key: K): boolean {
    if (isPrimitive(key)) return this.entries.delete(key);
    const text = canonicalKey(key);
    const token = this.objectTokens.get(text);
    if (token === undefined) return false;
    this.objectTokens.delete(text);
    return this.entries.delete(token);
  }

  /** Every `[key, value]` in first-seen order. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const entry of this.entries.values()) yield [entry.key, entry.value];
  }

  /** A shallow copy with the same order. */
  copy(): KeyedMap<K, V> {
    const clone = new KeyedMap<K, V>();
    for (const [id, entry] of this.entries)
      clone.entries.set(id, { key: entry.key, value: entry.value });
    for (const [text, token] of this.objectTokens) clone.objectTokens.set(text, token);
    return clone;
  }

  private lookupId(key: K): unknown {
    if (isPrimitive(key)) return key;
    return this.objectTokens.get(canonicalKey(key)) ?? MISSING;
  }

  private insertId(key: K): unknown {
    if (isPrimitive(key)) return key;
    const text = canonicalKey(key);
    let token = this.objectTokens.get(text);
    if (token === undefined) {
      token = Symbol(text);
      this.objectTokens.set(text, token);
    }
    return token;
  }
}

const MISSING = Symbol("missing key");

function isPrimitive(value: unknown): boolean {
  return (typeof value !== "object" && typeof value !== "function") || value === null;
}
