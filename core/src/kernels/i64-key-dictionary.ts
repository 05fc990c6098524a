import { grow } from "./byte-key-dictionary.js";

const EMPTY = 0;

/**
 * Distinct 64-bit integer keys in first-seen order, each with a dense id: the TypeScript twin
 * of the engine's `I64Dictionary`. Keys are read as two 32-bit halves, so no BigInt is made.
 *
 * @example
 * const dictionary = new I64KeyDictionary();
 * dictionary.intern(low, high); // 0 for the first key
 */
export class I64KeyDictionary {
  /** Key halves in id order: `[low0, high0, low1, high1, ...]` (little-endian int64 layout). */
  halves: Int32Array;
  /** Ids handed out (including forgotten ones). */
  size = 0;
  private slots: Int32Array;
  private mask: number;
  private used = 0;

  constructor(capacity = 16) {
    let slotCount = 16;
    while (slotCount < capacity * 2) slotCount *= 2;
    this.slots = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    this.halves = new Int32Array(Math.max(capacity, 4) * 2);
  }

  /** The id of the key with halves `low`, `high`, adding it when new (then `id === size - 1`). */
  intern(low: number, high: number): number {
    const { slots, mask, halves } = this;
    let slot = hashHalves(low, high) & mask;
    for (;;) {
      const entry = slots[slot] as number;
      if (entry === EMPTY) break;
      const at = (entry - 1) * 2;
      if (halves[at] === low && halves[at + 1] === high) return entry - 1;
      slot = (slot + 1) & mask;
    }
    const id = this.size;
    if (id * 2 + 2 > this.halves.length) this.halves = grow(this.halves, id * 2 + 2);
    this.halves[id * 2] = low;
    this.halves[id * 2 + 1] = high;
    this.size = id + 1;
    slots[slot] = id + 1;
    this.used++;
    if (this.used * 2 > slots.length) this.rehash(slots.length * 2);
    return id;
  }

  /** Forgets `id` for lookups: interning the same key again hands out a new id. */
  forget(id: number): void {
    const { slots, mask } = this;
    let slot = this.homeOf(id + 1);
    while ((slots[slot] as number) !== id + 1) {
      if ((slots[slot] as number) === EMPTY) return;
      slot = (slot + 1) & mask;
    }
    let hole = slot;
    let next = (hole + 1) & mask;
    while ((slots[next] as number) !== EMPTY) {
      const home = this.homeOf(slots[next] as number);
      if (((hole - home) & mask) < ((next - home) & mask)) {
        slots[hole] = slots[next] as number;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    slots[hole] = EMPTY;
    this.used--;
  }

  /** The keys of ids `0..size` as a BigInt64Array (one copy of the halves). */
  keysOf(ids: Uint32Array | null): BigInt64Array {
    if (ids === null) {
      return new BigInt64Array(this.halves.buffer.slice(0, this.size * 8));
    }
    const out = new Int32Array(ids.length * 2);
    for (let i = 0; i < ids.length; i++) {
      const at = (ids[i] as number) * 2;
      out[i * 2] = this.halves[at] as number;
      out[i * 2 + 1] = this.halves[at + 1] as number;
    }
    return new BigInt64Array(out.buffer);
  }

  /** Approximate bytes of memory held. */
  memoryBytes(): number {
    return this.slots.byteLength + this.halves.byteLength;
  }

  private homeOf(entry: number): number {
    const at = (entry - 1) * 2;
    return hashHalves(this.halves[at] as number, this.halves[at + 1] as number) & this.mask;
  }

  private rehash(slotCount: number): void {
    const old = this.slots;
    this.slots = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i] as number;
      if (entry === EMPTY) continue;
      let slot = this.homeOf(entry);
      while ((this.slots[slot] as number) !== EMPTY) slot = (slot + 1) & this.mask;
      this.slots[slot] = entry;
    }
  }
}

/** A cheap mix of the two halves (table placement only; never visible in results). */
function hashHalves(low: number, high: number): number {
  let h = Math.imul(low ^ Math.imul(high, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
