/**
 * A column of variable-length keys: `keys` holds the bytes of every row back to back and
 * `offsets` holds `rows + 1` positions into it (row i is `keys[offsets[i]..offsets[i+1]]`).
 */
export interface KeyColumn {
  readonly keys: Uint8Array;
  readonly offsets: Uint32Array;
}

/** Which implementation serves the kernels. */
export type KernelsKind = "native" | "js";

/**
 * The columnar kernels Sluice runs its hot paths on. `NativeKernels` (Rust) and `JsKernels`
 * (TypeScript) implement the same algorithms and give bit-identical results.
 */
export interface Kernels {
  readonly kind: KernelsKind;
  /** MurmurHash3 x86_32 (seed 0) of every key. */
  murmur3Utf8(column: KeyColumn): Uint32Array;
  /** The partition in `0..numPartitions` of every key: `murmur3 % numPartitions`. */
  hashPartitionUtf8(column: KeyColumn, numPartitions: number): Uint32Array;
  /** The partition of every 64-bit integer key (hashed as 8 little-endian bytes). */
  hashPartitionI64(keys: BigInt64Array, numPartitions: number): Uint32Array;
}
