import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyColumn } from "sluice/advanced";

/** A small, fast, deterministic generator (xorshift32), so every run sees the same data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** A uniform integer in [0, 2^32). */
  next(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.state = s >>> 0;
    return this.state;
  }

  /** A uniform float in [0, 1). */
  unit(): number {
    return this.next() / 4294967296;
  }
}

export type Distribution = "uniform" | "zipf1.2";

/** `rows` key ids in [0, distinct), uniform or Zipf(1.2)-distributed (hot ids shuffled). */
export function keyIds(
  rows: number,
  distinct: number,
  distribution: Distribution,
  seed: number,
): Uint32Array {
  const rng = new Rng(seed);
  const ids = new Uint32Array(rows);
  if (distribution === "uniform") {
    for (let i = 0; i < rows; i++) ids[i] = rng.next() % distinct;
    return ids;
  }
  const cdf = new Float64Array(distinct);
  let total = 0;
  for (let r = 0; r < distinct; r++) {
    total += (r + 1) ** -1.2;
    cdf[r] = total;
  }
  // A fixed permutation so the hottest keys are not also the smallest ids.
  const permutation = new Uint32Array(distinct);
  for (let i = 0; i < distinct; i++) permutation[i] = i;
  for (let i = distinct - 1; i > 0; i--) {
    const j = rng.next() % (i + 1);
    const t = permutation[i] as number;
    permutation[i] = permutation[j] as number;
    permutation[j] = t;
  }
  for (let i = 0; i < rows; i++) {
    const u = rng.unit() * total;
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    ids[i] = permutation[lo] as number;
  }
  return ids;
}

export type KeyShape = "short" | "long";

/** The text of key `id`: short keys are ≤ 16 bytes, long ones ≈ 40 bytes. */
export function keyText(id: number, shape: KeyShape): string {
  return shape === "short"
    ? `user:${id}`
    : `tenant-eu-west-1/account/${String(id).padStart(8, "0")}/orders`;
}

/** Builds the UTF-8 column of `ids` directly as bytes (as a source would hand them over). */
export function keyColumnOf(ids: Uint32Array, shape: KeyShape): KeyColumn {
  const encoder = new TextEncoder();
  const cache = new Map<number, Uint8Array>();
  const offsets = new Uint32Array(ids.length + 1);
  let total = 0;
  const parts = new Array<Uint8Array>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    let bytes = cache.get(id);
    if (bytes === undefined) {
      bytes = encoder.encode(keyText(id, shape));
      cache.set(id, bytes);
    }
    parts[i] = bytes;
    total += bytes.length;
    offsets[i + 1] = total;
  }
  const keys = new Uint8Array(total);
  for (let i = 0; i < ids.length; i++) keys.set(parts[i] as Uint8Array, offsets[i] as number);
  return { keys, offsets };
}

/** Values with a few decimals, so sums exercise real rounding. */
export function valuesFor(rows: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; i++) values[i] = (rng.next() % 100_000) / 100;
  return values;
}

/** Writes typed arrays as little-endian files for the Rust limit contender. */
export function writeArrays(dir: string, files: Record<string, ArrayBufferView>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, array] of Object.entries(files)) {
    writeFileSync(
      join(dir, name),
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
    );
  }
}

/** Order-sensitive checksum of u32s (FNV-style fold), as the Rust limit computes it. */
export function foldU32(values: Uint32Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < values.length; i++) h = Math.imul(h ^ (values[i] as number), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The bits of the row-order sum of `values`, as hex (the Rust limit prints the same). */
export function sumBits(values: Iterable<number>): string {
  let sum = 0;
  for (const value of values) sum += value;
  const bits = new BigUint64Array(new Float64Array([sum]).buffer)[0] as bigint;
  return bits.toString(16).padStart(16, "0");
}
