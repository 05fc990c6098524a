import type { PairColumns } from "sluice";

/**
 * The digest every peer contender computes over its word counts, in TypeScript, Rust and Java
 * alike: FNV-1a 64 of each word's UTF-8 bytes, then the sums (mod 2^32) of its high and low
 * halves times the word's count, with the number of words and of distinct words. Sums make it
 * independent of the order of the results and, for the socket run, of how the stream was cut
 * into batches (the digest of the totals is the sum of the batches' digests).
 */
export class Digest {
  hi = 0;
  lo = 0;
  words = 0;
  distinct = 0;

  /** Adds one word with its count (a zero count is a dropped key, as the windows drop them). */
  add(word: string, count: number): void {
    if (count === 0) return;
    let hi = 0xcbf29ce4;
    let lo = 0x84222325;
    for (let i = 0; i < word.length; i++) {
      const code = word.charCodeAt(i);
      // The generated words are ASCII; any other word is hashed from its UTF-8 bytes.
      if (code > 0x7f) {
        this.addBytes(new TextEncoder().encode(word), count);
        return;
      }
      lo = (lo ^ code) >>> 0;
      // (hi, lo) * 0x100000001b3 mod 2^64 with 32-bit halves: lo * 0x1b3 is exact in a double.
      const low = lo * 0x1b3;
      hi = (Math.imul(hi, 0x1b3) + Math.floor(low / 4294967296) + (lo << 8)) >>> 0;
      lo = low >>> 0;
    }
    this.sum(hi, lo, count);
  }

  private addBytes(bytes: Uint8Array, count: number): void {
    this.addUtf8(bytes, 0, bytes.length, count);
  }

  /** Adds one word given as its UTF-8 bytes, `bytes[start..end)`, with its count. */
  addUtf8(bytes: Uint8Array, start: number, end: number, count: number): void {
    if (count === 0) return;
    let hi = 0xcbf29ce4;
    let lo = 0x84222325;
    for (let i = start; i < end; i++) {
      lo = (lo ^ (bytes[i] as number)) >>> 0;
      const low = lo * 0x1b3;
      hi = (Math.imul(hi, 0x1b3) + Math.floor(low / 4294967296) + (lo << 8)) >>> 0;
      lo = low >>> 0;
    }
    this.sum(hi, lo, count);
  }

  private sum(hi: number, lo: number, count: number): void {
    this.hi = (this.hi + Math.imul(hi, count)) >>> 0;
    this.lo = (this.lo + Math.imul(lo, count)) >>> 0;
    this.words += count;
    this.distinct++;
  }

  /** The digest as plain numbers (hi, lo, words, distinct), to move between threads. */
  halves(): [number, number, number, number] {
    return [this.hi, this.lo, this.words, this.distinct];
  }

  /** Adds a digest given by `halves()` (the digest of other words) to this one. */
  merge([hi, lo, words, distinct]: readonly [number, number, number, number]): void {
    this.hi = (this.hi + hi) >>> 0;
    this.lo = (this.lo + lo) >>> 0;
    this.words += words;
    this.distinct += distinct;
  }

  /** The text every contender prints; the socket run leaves the distinct count out ("-"). */
  text(withDistinct = true): string {
    const hex = (n: number) => n.toString(16).padStart(8, "0");
    return `${withDistinct ? this.distinct : "-"} distinct, ${this.words} words, ${hex(this.hi)}${hex(this.lo)}`;
  }
}

/** The digest of word counts given as columns: the words' UTF-8 rows and their counts. */
export function digestOfColumns({ rows, keys, values }: PairColumns): Digest {
  const digest = new Digest();
  const { bytes, offsets } = keys;
  for (let row = 0; row < rows; row++) {
    digest.addUtf8(
      bytes,
      offsets[row] as number,
      offsets[row + 1] as number,
      values[row] as number,
    );
  }
  return digest;
}

/** The digest of word counts given as pairs. */
export function digestOf(counts: Iterable<readonly [string, number]>): Digest {
  const digest = new Digest();
  for (const [word, count] of counts) digest.add(word, count);
  return digest;
}
