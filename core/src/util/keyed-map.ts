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
  /**
   * Values by key id: a primitive key is its own id (no wrapper per entry, one lookup per get —
   * this map is the inner loop of every shuffle), an object key's id is its token.
   */
  private readonly values = new Map<unknown, V>();
  /** The first object key seen for each token, and the token of each canonical text. */
  private readonly objectKeys = new Map<ObjectKeyToken, K>();
  private readonly objectTokens = new Map<string, ObjectKeyToken>();
  /** A `Map` stores -0 as 0: the zero seen first, to give it back. */
  private zeroKey: K | undefined;

  /** Number of keys. */
  get size(): number {
    return this.values.size;
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    if (isPrimitive(key)) return this.values.get(key);
    const token = this.objectTokens.get(canonicalKey(key));
    return token === undefined ? undefined : this.values.get(token);
  }

  /** True when `key` is present. */
  has(key: K): boolean {
    if (isPrimitive(key)) return this.values.has(key);
    const token = this.objectTokens.get(canonicalKey(key));
    return token !== undefined && this.values.has(token);
  }

  /** Stores `value` under `key`; an existing key keeps its position. */
  set(key: K, value: V): this {
    if (isPrimitive(key)) {
      if (key === 0 && !this.values.has(0)) this.zeroKey = key;
      this.values.set(key, value);
      return this;
    }
    const text = canonicalKey(key);
    let token = this.objectTokens.get(text);
    if (token === undefined) {
      token = Symbol(text);
      this.objectTokens.set(text, token);
      this.objectKeys.set(token, key);
    }
    this.values.set(token, value);
    return this;
  }

  /** Removes `key`; true when it was present. */
  delete(key: K): boolean {
    if (isPrimitive(key)) return this.values.delete(key);
    const text = canonicalKey(key);
    const token = this.objectTokens.get(text);
    if (token === undefined) return false;
    this.objectTokens.delete(text);
    this.objectKeys.delete(token);
    return this.values.delete(token);
  }

  /** Every `[key, value]` in first-seen order. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [id, value] of this.values) yield [this.keyOf(id), value];
  }

  /** A shallow copy with the same order. */
  copy(): KeyedMap<K, V> {
    const clone = new KeyedMap<K, V>();
    for (const [id, value] of this.values) clone.values.set(id, value);
    clone.zeroKey = this.zeroKey;
    for (const [token, key] of this.objectKeys) clone.objectKeys.set(token, key);
    for (const [text, token] of this.objectTokens) clone.objectTokens.set(text, token);
    return clone;
  }

  // A user's own symbol key is a primitive: only this map's tokens stand for object keys.
  private keyOf(id: unknown): K {
    if (id === 0) return this.zeroKey as K;
    if (typeof id === "symbol") {
      const key = this.objectKeys.get(id);
      if (key !== undefined || this.objectKeys.has(id)) return key as K;
    }
    return id as K;
  }
}

function isPrimitive(value: unknown): boolean {
  return (typeof value !== "object" && typeof value !== "function") || value === null;
}
