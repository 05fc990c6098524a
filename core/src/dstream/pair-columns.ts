import type { Kernels, KeyColumn } from "../kernels/kernels.js";
import { gatherRows, gatherValues, keyColumnFromStrings } from "../kernels/key-column.js";
import type { ColumnarPartition } from "./columnar-batch.js";

/**
 * The kinds of key the kernels group without changing Sluice's key equality or placement:
 * well-formed strings (UTF-8 bytes, placed as `hashPartitionUtf8`), safe-integer numbers other
 * than `-0`, and bigints in the 64-bit range (both as 64-bit integers, placed as
 * `hashPartitionI64`; kept apart, since `1` and `1n` are two keys). Any other key (objects,
 * fractions, `-0`, strings with lone surrogates, ...) is grouped in JavaScript.
 */
export type KeyFamily = "utf8" | "number" | "bigint";

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const TWO_32 = 2 ** 32;

/**
 * The family of a key, or `undefined` for a key the kernels cannot group exactly as a
 * `KeyedMap` does.
 *
 * @example
 * keyFamily("a"); // "utf8"
 * keyFamily(-0); // undefined: a KeyedMap would keep -0 as the key; the kernels would give 0
 */
export function keyFamily(key: unknown): KeyFamily | undefined {
  switch (typeof key) {
    case "string":
      // A lone surrogate encodes as U+FFFD, so two different strings could share bytes.
      return isWellFormed(key) ? "utf8" : undefined;
    case "number":
      return Number.isSafeInteger(key) && !Object.is(key, -0) ? "number" : undefined;
    case "bigint":
      return key >= MIN_I64 && key <= MAX_I64 ? "bigint" : undefined;
    default:
      return undefined;
  }
}

/** Keys of one family as the kernels take them. */
export type FamilyKeys =
  | { readonly family: "utf8"; readonly keys: KeyColumn }
  | { readonly family: "number" | "bigint"; readonly keys: BigInt64Array };

/**
 * Encodes keys of one family into a column: strings as UTF-8 rows, integers as `BigInt64Array`
 * (numbers written as two 32-bit halves, no BigInt per row).
 *
 * @example
 * encodeKeys(["a", "b"], "utf8");
 */
export function encodeKeys(keys: readonly unknown[], family: KeyFamily): FamilyKeys {
  if (family === "utf8") {
    return { family, keys: keyColumnFromStrings(keys as readonly string[]) };
  }
  const out = new BigInt64Array(keys.length);
  if (family === "bigint") {
    for (let row = 0; row < keys.length; row++) out[row] = keys[row] as bigint;
    return { family, keys: out };
  }
  const halves = new Int32Array(out.buffer);
  for (let row = 0; row < keys.length; row++) {
    const key = keys[row] as number;
    // Little-endian two's complement: the low half modulo 2^32, the high half the floor.
    halves[row * 2] = key >>> 0;
    halves[row * 2 + 1] = Math.floor(key / TWO_32);
  }
  return { family, keys: out };
}

/**
 * The JS keys of integer groups: numbers for the `number` family, bigints for `bigint`.
 *
 * @example
 * decodeIntegerKeys(BigInt64Array.of(-1n), "number"); // [-1]
 */
export function decodeIntegerKeys(keys: BigInt64Array, family: "number" | "bigint"): unknown[] {
  if (family === "bigint") return Array.from(keys);
  const halves = new Int32Array(keys.buffer, keys.byteOffset, keys.length * 2);
  const out = new Array<number>(keys.length);
  for (let row = 0; row < keys.length; row++) {
    out[row] = (halves[row * 2 + 1] as number) * TWO_32 + ((halves[row * 2] as number) >>> 0);
  }
  return out;
}

/**
 * Groups of one family (one row per key, with its value) spread over `numPartitions` with the
 * kernels' placement (`partitionOfKey`), keeping their order within each partition. UTF-8
 * groups stay columns (`pairs`, decoded only when read); integer groups become JS pairs.
 *
 * @example
 * const partitions = partitionGroups(kernels, { family: "utf8", keys }, values, 4);
 */
export function partitionGroups(
  kernels: Kernels,
  groups: FamilyKeys,
  values: Float64Array,
  numPartitions: number,
): (ColumnarPartition | [unknown, number][])[] {
  if (groups.family === "utf8") {
    if (numPartitions === 1) return [{ kind: "pairs", keys: groups.keys, values }];
    const ids = kernels.hashPartitionUtf8(groups.keys, numPartitions);
    const { permutation, bounds } = kernels.shuffle(ids, numPartitions);
    return Array.from({ length: numPartitions }, (_, p) => {
      const from = bounds[p] as number;
      const to = bounds[p + 1] as number;
      return {
        kind: "pairs",
        keys: gatherRows(groups.keys, permutation, from, to),
        values: gatherValues(values, permutation, from, to),
      } satisfies ColumnarPartition;
    });
  }
  const keys = decodeIntegerKeys(groups.keys, groups.family);
  const out: [unknown, number][][] = Array.from({ length: numPartitions }, () => []);
  const ids =
    numPartitions === 1 ? undefined : kernels.hashPartitionI64(groups.keys, numPartitions);
  for (let row = 0; row < keys.length; row++) {
    (out[ids === undefined ? 0 : (ids[row] as number)] as [unknown, number][]).push([
      keys[row],
      values[row] as number,
    ]);
  }
  return out;
}

/** The value column `count` takes (it reads no values). */
export const EMPTY_VALUES = new Float64Array(0);

/**
 * Value columns one after the other.
 *
 * @example
 * concatValues([Float64Array.of(1), Float64Array.of(2)]); // Float64Array [1, 2]
 */
export function concatValues(parts: readonly Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0] as Float64Array;
  let rows = 0;
  for (const part of parts) rows += part.length;
  const out = new Float64Array(rows);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}
