import { deserialize, serialize } from "node:v8";
import type { ShuffleBlock } from "../dstream/shuffle-operator.js";
import { textPairsBlock } from "../dstream/text-pairs-block.js";
import type { ShuffleBucket } from "./messages.js";
import { shippedPairs } from "./shipped-pairs.js";

/**
 * A shuffle block as a bucket in shared memory, which the driver hands on to the reduce task
 * without copying it again (and can hand again to a retry): rows as `v8.serialize` bytes (the
 * structured-clone format), columns as their arrays (not copied when the map side already wrote
 * them into shared memory).
 *
 * @example
 * const bucket = encodeBucket({ kind: "rows", rows: [["a", 1]], partial: false });
 */
export function encodeBucket(block: ShuffleBlock): ShuffleBucket {
  if (block.kind === "rows") {
    const { partial } = block;
    // Combined rows are the map side's own `[key, combiner]` arrays: nothing of them but the
    // key and the number is lost by shipping just those (a map side may have made them text
    // pairs already).
    const pairs = block.pairs ?? (partial ? shippedPairs(block.rows) : undefined);
    if (pairs !== undefined) {
      return {
        format: "string-number",
        text: pairs.text,
        ends: shared(pairs.ends),
        values: shared(pairs.values),
        rows: pairs.ends.length,
        partial,
      };
    }
    const { rows } = block;
    return { format: "v8", bytes: shared(serialize(rows)), rows: rows.length, partial };
  }
  const { keys, values, partial } = block;
  if (keys.family === "utf8") {
    return {
      format: "utf8-f64",
      keys: shared(keys.keys.keys),
      offsets: shared(keys.keys.offsets),
      values: shared(values),
      rows: keys.keys.offsets.length - 1,
      partial,
    };
  }
  return {
    format: "i64-f64",
    family: keys.family,
    keys: shared(keys.keys),
    values: shared(values),
    rows: keys.keys.length,
    partial,
  };
}

/**
 * The block a bucket holds, in ordinary memory (the kernels and `TextDecoder` do not take
 * shared memory, and the reduce side may keep what it is given).
 *
 * @example
 * decodeBucket(encodeBucket(block)); // a copy of block
 */
export function decodeBucket(bucket: ShuffleBucket): ShuffleBlock {
  switch (bucket.format) {
    case "v8":
      return {
        kind: "rows",
        rows: deserialize(new Uint8Array(bucket.bytes)) as [unknown, unknown][],
        partial: bucket.partial,
      };
    case "string-number":
      // Rows are made only if the reduce side reads them (it may merge the pairs as they are).
      return textPairsBlock(
        {
          text: bucket.text,
          ends: new Uint32Array(bucket.ends).slice(),
          values: new Float64Array(bucket.values).slice(),
        },
        bucket.partial,
      );
    case "utf8-f64":
      return {
        kind: "columns",
        keys: {
          family: "utf8",
          keys: {
            keys: new Uint8Array(bucket.keys).slice(),
            offsets: new Uint32Array(bucket.offsets).slice(),
          },
        },
        values: new Float64Array(bucket.values).slice(),
        partial: bucket.partial,
      };
    case "i64-f64":
      return {
        kind: "columns",
        keys: { family: bucket.family, keys: new BigInt64Array(bucket.keys).slice() },
        values: new Float64Array(bucket.values).slice(),
        partial: bucket.partial,
      };
  }
}

/** The bytes a bucket occupies. */
export function bucketBytes(bucket: ShuffleBucket): number {
  switch (bucket.format) {
    case "v8":
      return bucket.bytes.byteLength;
    case "string-number":
      return bucket.text.length * 2 + bucket.ends.byteLength + bucket.values.byteLength;
    case "utf8-f64":
      return bucket.keys.byteLength + bucket.offsets.byteLength + bucket.values.byteLength;
    case "i64-f64":
      return bucket.keys.byteLength + bucket.values.byteLength;
  }
}

/**
 * Memory for columns that cross threads: map sides write their blocks' columns here, so
 * `encodeBucket` hands them on without a copy.
 *
 * @example
 * new Uint8Array(sharedMemory(16));
 */
export function sharedMemory(byteLength: number): SharedArrayBuffer {
  return new SharedArrayBuffer(byteLength);
}

/**
 * `view`'s bytes as a SharedArrayBuffer: its own when the view spans all of one, else a copy.
 *
 * @example
 * shared(Uint8Array.of(1, 2)).byteLength; // 2
 */
export function shared(view: ArrayBufferView): SharedArrayBuffer {
  const { buffer, byteOffset, byteLength } = view;
  if (buffer instanceof SharedArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer;
  }
  const out = new SharedArrayBuffer(byteLength);
  new Uint8Array(out).set(new Uint8Array(buffer, byteOffset, byteLength));
  return out;
}
