import { murmur3 } from "./murmur3.js";

const EMPTY = 0;

/**
 * Distinct byte keys in first-seen order, each with a dense id: the TypeScript twin of the
 * engine's `BytesDictionary`. Keys are hashed once and found through an open-addressing table
 * of ids, confirmed by comparing bytes with the dictionary's own copy, so no JS string is made.
 *
 * @example
 * const dictionary = new ByteKeyDictionary();
 * dictionary.intern(bytes, 0, bytes.length); // 0 for the first key
 */
export class ByteKeyDictionary {
  /** Bytes of every key, in id order. */
  blob: Uint8Array;
  /** `size + 1` offsets into `blob`. */
  offsets: Uint32Array;
  /** Ids handed out (including forgotten ones). */
  size = 0;
  private blobLength = 0;
  private hashes: Int32Array;
  /** Open-addressing table of `id + 1` (0 marks an empty slot), linear probing. */
  private slots: Int32Array;
  private slotHashes: Int32Array;
  private mask: number;
  private used = 0;

  constructor(capacity = 16) {
    const slotCount = tableSizeFor(capacity);
    this.slots = new Int32Array(slotCount);
    this.slotHashes = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    this.hashes = new Int32Array(Math.max(capacity, 4));
    this.offsets = new Uint32Array(Math.max(capacity, 4) + 1);
    this.blob = new Uint8Array(Math.max(capacity * 8, 64));
  }

  /** Bytes used by the keys so far. */
  get byteLength(): number {
    return this.blobLength;
  }

  /** The id of `bytes[start..end)`, adding the key when new (then `id === size - 1`). */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const hash = murmur3(bytes, start, end) | 0;
    const length = end - start;
    const { slots, slotHashes, mask, blob, offsets } = this;
    let slot = hash & mask;
    for (;;) {
      const entry = slots[slot] as number;
      if (entry === EMPTY) break;
      if (slotHashes[slot] === hash) {
        const id = entry - 1;
        const from = offsets[id] as number;
        if (
          (offsets[id + 1] as number) - from === length &&
          sameBytes(blob, from, bytes, start, length)
        ) {
          return id;
        }
      }
      slot = (slot + 1) & mask;
    }
    return this.append(bytes, start, end, hash, slot);
  }

  /** Forgets `id` for lookups: interning the same bytes again hands out a new id. */
  forget(id: number): void {
    const hash = this.hashes[id] as number;
    const { slots, mask } = this;
    let slot = hash & mask;
    while ((slots[slot] as number) !== id + 1) {
      if ((slots[slot] as number) === EMPTY) return;
      slot = (slot + 1) & mask;
    }
    this.removeSlot(slot);
  }

  /** The bytes of key `id` (a view, valid until the next `intern`). */
  get(id: number): Uint8Array {
    return this.blob.subarray(this.offsets[id] as number, this.offsets[id + 1] as number);
  }

  /** Approximate bytes of memory held. */
  memoryBytes(): number {
    return (
      this.slots.byteLength * 2 +
      this.hashes.byteLength +
      this.offsets.byteLength +
      this.blob.byteLength
    );
  }

  private append(
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
    slot: number,
  ): number {
    const id = this.size;
    const length = end - start;
    if (this.blobLength + length > this.blob.length) {
      this.blob = grow(this.blob, this.blobLength + length) as Uint8Array;
    }
    this.blob.set(bytes.subarray(start, end), this.blobLength);
    this.blobLength += length;
    if (id + 2 > this.offsets.length) this.offsets = grow(this.offsets, id + 2) as Uint32Array;
    this.offsets[id + 1] = this.blobLength;
    if (id + 1 > this.hashes.length) this.hashes = grow(this.hashes, id + 1) as Int32Array;
    this.hashes[id] = hash;
    this.size = id + 1;
    this.slots[slot] = id + 1;
    this.slotHashes[slot] = hash;
    this.used++;
    if (this.used * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return id;
  }

  private rehash(slotCount: number): void {
    const oldSlots = this.slots;
    const slots = new Int32Array(slotCount);
    const slotHashes = new Int32Array(slotCount);
    const mask = slotCount - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const entry = oldSlots[i] as number;
      if (entry === EMPTY) continue;
      const hash = this.hashes[entry - 1] as number;
      let slot = hash & mask;
      while ((slots[slot] as number) !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = entry;
      slotHashes[slot] = hash;
    }
    this.slots = slots;
    this.slotHashes = slotHashes;
    this.mask = mask;
  }

  /** Backward-shift deletion keeps linear probing correct without tombstones. */
  private removeSlot(removed: number): void {
    const { slots, slotHashes, mask } = this;
    let hole = removed;
    let slot = (hole + 1) & mask;
    while ((slots[slot] as number) !== EMPTY) {
      const home = (slotHashes[slot] as number) & mask;
      // Move the entry into the hole when its home is not in (hole, slot] cyclically.
      const distanceToSlot = (slot - home) & mask;
      const distanceToHole = (hole - home) & mask;
      if (distanceToHole < distanceToSlot) {
        slots[hole] = slots[slot] as number;
        slotHashes[hole] = slotHashes[slot] as number;
        hole = slot;
      }
      slot = (slot + 1) & mask;
    }
    slots[hole] = EMPTY;
    this.used--;
  }
}

function sameBytes(
  a: Uint8Array,
  aStart: number,
  b: Uint8Array,
  bStart: number,
  length: number,
): boolean {
  for (let i = 0; i < length; i++) {
    if (a[aStart + i] !== b[bStart + i]) return false;
  }
  return true;
}

/** The smallest power of two holding `capacity` keys at a load factor of at most 1/2. */
function tableSizeFor(capacity: number): number {
  let size = 16;
  while (size < capacity * 2) size *= 2;
  return size;
}

type GrowableArray = Uint8Array | Uint32Array | Int32Array | Float64Array;

/** A copy of `array` with room for at least `needed` elements (doubling). */
export function grow<T extends GrowableArray>(array: T, needed: number): T {
  let length = Math.max(array.length * 2, 16);
  while (length < needed) length *= 2;
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array as never);
  return bigger;
}
