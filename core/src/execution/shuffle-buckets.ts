import { deserialize, serialize } from "node:v8";
import type { Kernels, KeyColumn } from "../kernels/kernels.js";
import { gatherRows, gatherValues } from "../kernels/key-column.js";
import type { ShuffleBucket } from "./messages.js";

/**
 * A copy of `bytes` in shared memory, which the driver hands on to the reduce task without
 * copying it again (and can hand again to a retry).
 */
function shared(bytes: Uint8Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

/**
 * Rows of any kind as one bucket (`v8.serialize`, the structured-clone format).
 *
 * @example
 * const bucket = rowsBucket([["a", 1], ["b", 2]]);
 */
export function rowsBucket(rows: ReadonlyArray<unknown>): ShuffleBucket {
  return { format: "v8", bytes: shared(serialize(rows)), rows: rows.length };
}

/**
 * The rows of a `v8` bucket.
 *
 * @example
 * bucketRows(rowsBucket([["a", 1]])); // [["a", 1]]
 */
export function bucketRows(bucket: Extract<ShuffleBucket, { format: "v8" }>): unknown[] {
  return deserialize(new Uint8Array(bucket.bytes)) as unknown[];
}

/** The bytes a bucket occupies. */
export function bucketBytes(bucket: ShuffleBucket): number {
  return bucket.format === "v8"
    ? bucket.bytes.byteLength
    : bucket.keys.byteLength + bucket.offsets.byteLength + bucket.values.byteLength;
}

/**
 * Splits a columnar batch (string keys, one number per row) into one bucket per partition with
 * the kernels: `hashPartitionUtf8` (the placement of `partitionOfKey`) and the stable `shuffle`,
 * so rows keep their order within a bucket.
 *
 * @example
 * const buckets = columnarBuckets(kernels, keyColumnFromStrings(["a", "b"]), values, 2, false);
 */
export function columnarBuckets(
  kernels: Kernels,
  column: KeyColumn,
  values: Float64Array,
  numPartitions: number,
  partial: boolean,
): ShuffleBucket[] {
  const ids = kernels.hashPartitionUtf8(column, numPartitions);
  const { permutation, bounds } = kernels.shuffle(ids, numPartitions);
  const buckets: ShuffleBucket[] = [];
  for (let p = 0; p < numPartitions; p++) {
    const from = bounds[p] as number;
    const to = bounds[p + 1] as number;
    const gathered = gatherRows(column, permutation, from, to, sharedMemory);
    buckets.push({
      format: "utf8-f64",
      keys: gathered.keys.buffer as SharedArrayBuffer,
      offsets: gathered.offsets.buffer as SharedArrayBuffer,
      values: gatherValues(values, permutation, from, to, sharedMemory).buffer as SharedArrayBuffer,
      rows: to - from,
      partial,
    });
  }
  return buckets;
}

/**
 * Columnar buckets one after the other, as one key column and one value array (ordinary
 * memory, ready for the kernels).
 *
 * @example
 * const { column, values } = concatColumnar(buckets);
 */
export function concatColumnar(
  buckets: ReadonlyArray<Extract<ShuffleBucket, { format: "utf8-f64" }>>,
): {
  column: KeyColumn;
  values: Float64Array;
} {
  let rows = 0;
  let bytes = 0;
  for (const bucket of buckets) {
    rows += bucket.rows;
    bytes += bucket.keys.byteLength;
  }
  const keys = new Uint8Array(bytes);
  const offsets = new Uint32Array(rows + 1);
  const values = new Float64Array(rows);
  let row = 0;
  let position = 0;
  for (const bucket of buckets) {
    keys.set(new Uint8Array(bucket.keys), position);
    const bucketOffsets = new Uint32Array(bucket.offsets);
    for (let i = 1; i <= bucket.rows; i++)
      offsets[row + i] = position + (bucketOffsets[i] as number);
    values.set(new Float64Array(bucket.values), row);
    row += bucket.rows;
    position += bucket.keys.byteLength;
  }
  return { column: { keys, offsets }, values };
}

// Buckets travel to executor threads without a copy.
function sharedMemory(byteLength: number): SharedArrayBuffer {
  return new SharedArrayBuffer(byteLength);
}
