import type { Kernels, KeyColumn } from "../kernels/kernels.js";
import {
  type AllocateBuffer,
  concatKeyColumns,
  decodeKeyColumn,
  gatherRows,
  gatherValues,
  keyColumnFromStrings,
} from "../kernels/key-column.js";
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

/** Keys of one family with one number per row: a block of a named reduction's shuffle. */
export interface FamilyColumns {
  readonly keys: FamilyKeys;
  readonly values: Float64Array;
}

/**
 * The placement step of columns: rows spread over `numPartitions` with the kernels'
 * `hashPartitionUtf8` / `hashPartitionI64` (the placement of `partitionOfKey`) and the stable
 * `shuffle`, keeping their order within each partition, in memory from `allocate`. With one
 * partition and no `allocate`, the columns themselves.
 *
 * @example
 * const parts = placeColumns(kernels, { family: "utf8", keys }, values, 4);
 */
export function placeColumns(
  kernels: Kernels,
  keys: FamilyKeys,
  values: Float64Array,
  numPartitions: number,
  allocate?: AllocateBuffer,
): FamilyColumns[] {
  if (numPartitions === 1 && allocate === undefined) return [{ keys, values }];
  if (keys.family === "utf8" && allocate === undefined) {
    // One kernel call: each key hashed once and copied once, no permutation made.
    return kernels.placeRowsUtf8(keys.keys, values, numPartitions).map((part) => ({
      keys: { family: "utf8", keys: part.keys },
      values: part.values,
    }));
  }
  const ids =
    keys.family === "utf8"
      ? kernels.hashPartitionUtf8(keys.keys, numPartitions)
      : kernels.hashPartitionI64(keys.keys, numPartitions);
  const { permutation, bounds } = kernels.shuffle(ids, numPartitions);
  return Array.from({ length: numPartitions }, (_, p) => {
    const from = bounds[p] as number;
    const to = bounds[p + 1] as number;
    const placed: FamilyKeys =
      keys.family === "utf8"
        ? { family: "utf8", keys: gatherRows(keys.keys, permutation, from, to, allocate) }
        : { family: keys.family, keys: gatherI64(keys.keys, permutation, from, to, allocate) };
    // `count` reads no values, so its raw rows carry none.
    const gathered =
      values.length === 0 ? EMPTY_VALUES : gatherValues(values, permutation, from, to, allocate);
    return { keys: placed, values: gathered };
  });
}

/**
 * Groups of one family (one row per key, with its value) spread over `numPartitions` with the
 * kernels' placement (`placeColumns`), keeping their order within each partition. UTF-8 groups
 * stay columns (`pairs`, decoded only when read); integer groups become JS pairs.
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
  return placeColumns(kernels, groups, values, numPartitions).map(familyPartition);
}

/**
 * Columns as a partition of a batch: string keys stay columns (`pairs`), integer keys become JS
 * pairs.
 *
 * @example
 * familyPartition({ keys: { family: "utf8", keys }, values }); // { kind: "pairs", keys, values }
 */
export function familyPartition(columns: FamilyColumns): ColumnarPartition | [unknown, number][] {
  const { keys, values } = columns;
  return keys.family === "utf8" ? { kind: "pairs", keys: keys.keys, values } : familyPairs(columns);
}

/**
 * Columns of one family one after the other (one part: itself).
 *
 * @example
 * concatFamilyColumns([a, b]); // a's rows, then b's
 */
export function concatFamilyColumns(parts: readonly FamilyColumns[]): FamilyColumns {
  const first = parts[0] as FamilyColumns;
  if (parts.length === 1) return first;
  let rows = 0;
  for (const part of parts) rows += part.values.length;
  const values = new Float64Array(rows);
  let at = 0;
  for (const part of parts) {
    values.set(part.values, at);
    at += part.values.length;
  }
  if (first.keys.family === "utf8") {
    const columns = parts.map((part) => part.keys.keys as KeyColumn);
    const keys = concatKeyColumns(columns);
    return { keys: { family: "utf8", keys }, values };
  }
  const integers = parts.map((part) => part.keys.keys as BigInt64Array);
  let keyRows = 0;
  for (const part of integers) keyRows += part.length;
  const keys = new BigInt64Array(keyRows);
  at = 0;
  for (const part of integers) {
    keys.set(part, at);
    at += part.length;
  }
  return { keys: { family: first.keys.family, keys }, values };
}

/**
 * The JS pairs of columns: string keys decoded, integer keys as numbers or bigints.
 *
 * @example
 * familyPairs({ keys: { family: "number", keys: BigInt64Array.of(1n) }, values }); // [[1, …]]
 */
export function familyPairs({ keys, values }: FamilyColumns): [unknown, number][] {
  const decoded =
    keys.family === "utf8" ? decodeKeyColumn(keys.keys) : decodeIntegerKeys(keys.keys, keys.family);
  const out = new Array<[unknown, number]>(decoded.length);
  for (let row = 0; row < decoded.length; row++) out[row] = [decoded[row], values[row] as number];
  return out;
}

function gatherI64(
  keys: BigInt64Array,
  permutation: Uint32Array,
  from: number,
  to: number,
  allocate: AllocateBuffer | undefined,
): BigInt64Array {
  const out =
    allocate === undefined
      ? new BigInt64Array(to - from)
      : new BigInt64Array(allocate((to - from) * 8));
  for (let i = from; i < to; i++) out[i - from] = keys[permutation[i] as number] as bigint;
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
