import { SluiceError } from "../errors/sluice-error.js";
import {
  type NamedReduction,
  partialMergeOp,
  startAggregate,
  stepAggregate,
} from "../kernels/aggregate-op.js";
import type { Kernels, Utf8Groups } from "../kernels/kernels.js";
import { concatKeyColumns, isUtf8Column } from "../kernels/key-column.js";
import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import { type Batch, batchSize } from "./batch.js";
import { batchOf, type ColumnarPartition, columnsOf, pairValues } from "./columnar-batch.js";
import {
  concatValues,
  EMPTY_VALUES,
  encodeKeys,
  type FamilyKeys,
  type KeyFamily,
  keyFamily,
  partitionGroups,
} from "./pair-columns.js";

/**
 * The reductions `reduceByKey` accepts by name (the kernels' ops but `mean`). They are
 * declarative, so they run on the columnar kernels (`reduceBatchNamed`); `reduceByKeyNamed` is
 * the row-by-row reference with the same rules, for keys the kernels cannot group and for small
 * batches.
 */
export type { NamedReduction };

const NAMES: ReadonlySet<unknown> = new Set<NamedReduction>(["sum", "count", "min", "max"]);

/**
 * True when `value` names a reduction.
 *
 * @example
 * isNamedReduction("sum"); // true
 */
export function isNamedReduction(value: unknown): value is NamedReduction {
  return NAMES.has(value);
}

/**
 * Reduces every key's values of a batch with a named reduction, through the kernels when it
 * can: a columnar batch of `[string, number]` pairs (valid UTF-8) always; a batch of JS pairs
 * from `PAIRS_JS_BELOW_ROWS` rows on (`jsBelowRows` overrides it) when every key is of one
 * `KeyFamily` (its keys encoded once into a column). Otherwise, `reduceByKeyNamed` row by row. Both give the same batch:
 * the same partitions (`partitionOfKey`), keys in first-seen order within each, values summed
 * in row order from `+0`. UTF-8 results stay columns until something reads them.
 *
 * @example
 * reduceBatchNamed(batch, "sum", 4, this.scope.kernels);
 */
export function reduceBatchNamed<K>(
  batch: Batch<readonly [K, unknown]>,
  op: NamedReduction,
  numPartitions: number,
  kernels: Kernels,
  options: { readonly jsBelowRows?: number } = {},
): Batch<[K, number]> {
  const groups = groupWithKernels(batch, op, kernels, options.jsBelowRows);
  if (groups === undefined) {
    return { time: batch.time, partitions: reduceByKeyNamed(batch, op, numPartitions) };
  }
  return batchOf<[K, number]>(
    batch.time,
    partitionGroups(kernels, groups.keys, groups.values, numPartitions),
  );
}

/** One row per key with its reduced value, from the kernels; undefined where they do not apply. */
function groupWithKernels(
  batch: Batch<readonly [unknown, unknown]>,
  op: NamedReduction,
  kernels: Kernels,
  jsBelowRows: number | undefined,
): { readonly keys: FamilyKeys; readonly values: Float64Array } | undefined {
  const columns = columnsOf(batch, "pairs");
  if (columns !== undefined) {
    if (!columns.every((partition) => isUtf8Column(partition.keys))) return undefined;
    const groups = reduceColumns(columns, op, kernels);
    return { keys: { family: "utf8", keys: groups.keys }, values: groups.values };
  }
  const rows = batchSize(batch);
  const thresholds = PAIRS_JS_BELOW_ROWS[kernels.kind];
  const least = jsBelowRows ?? Math.min(thresholds.number, thresholds.bigint, thresholds.utf8);
  const family = rows >= least ? commonKeyFamily(batch, op) : undefined;
  if (family === undefined || rows < (jsBelowRows ?? thresholds[family])) return undefined;
  const keys: unknown[] = [];
  const valueColumn = op === "count" ? EMPTY_VALUES : new Float64Array(rows);
  for (const partition of batch.partitions) {
    for (const [key, value] of partition) {
      if (op !== "count") valueColumn[keys.length] = value as number;
      keys.push(key);
    }
  }
  const encoded = encodeKeys(keys, family);
  if (encoded.family === "utf8") {
    const groups = kernels.reduceByKeyUtf8(encoded.keys, valueColumn, op);
    return { keys: { family: "utf8", keys: groups.keys }, values: groups.values };
  }
  const groups = kernels.reduceByKeyI64(encoded.keys, valueColumn, op);
  return { keys: { family: encoded.family, keys: groups.keys }, values: groups.values };
}

/**
 * From how many rows a batch of JS pairs goes through the kernels on the main thread, by engine
 * and key family. Below, encoding the keys into a column, placing the groups and decoding them
 * costs more than the KeyedMap reference saves: a dozen typed arrays per batch, and a UTF-8
 * copy of every string key. `npm run bench -- --only=pairs` measures the crossover
 * (docs/BENCHMARKS.md); it is well above the kernels' own threshold (`DEFAULT_JS_BELOW_ROWS`),
 * which compares the addon with the twin on columns that already exist. The TypeScript twin's
 * dictionary does not win back the encoding of string keys, so with it string keys stay on the
 * reference. Columnar batches (from the byte parsers) always take the kernels.
 */
export const PAIRS_JS_BELOW_ROWS: Readonly<
  Record<Kernels["kind"], Readonly<Record<KeyFamily, number>>>
> = {
  native: { utf8: 2048, number: 1024, bigint: 1024 },
  js: { utf8: Number.POSITIVE_INFINITY, number: 4096, bigint: 4096 },
};

/**
 * reduceByKey over the `pairs` columns of a batch. `sum` concatenates them (floats must be added
 * in row order); `count`, `min` and `max` reduce each partition, then merge the partial results
 * in partition order (exact whatever the grouping, and first-seen order is kept), which spares
 * copying every row into one column.
 */
function reduceColumns(
  columns: readonly Extract<ColumnarPartition, { kind: "pairs" }>[],
  op: NamedReduction,
  kernels: Kernels,
): Utf8Groups {
  const valuesOf = (parts: typeof columns) =>
    op === "count" ? EMPTY_VALUES : concatValues(parts.map(pairValues));
  if (op === "sum" || columns.length === 1) {
    return kernels.reduceByKeyUtf8(
      concatKeyColumns(columns.map((partition) => partition.keys)),
      valuesOf(columns),
      op,
    );
  }
  const partials = columns.map((partition) =>
    kernels.reduceByKeyUtf8(partition.keys, valuesOf([partition]), op),
  );
  return kernels.reduceByKeyUtf8(
    concatKeyColumns(partials.map((partial) => partial.keys)),
    concatValues(partials.map((partial) => partial.values)),
    partialMergeOp(op),
  );
}

/**
 * The family every key of the batch shares, or `undefined` at the first key of another (mixed or
 * other keys; `reduceByKeyNamed` then checks every value itself). Checks the values on the way,
 * in row order, so a bad value fails as in `reduceByKeyNamed`.
 */
function commonKeyFamily(
  batch: Batch<readonly [unknown, unknown]>,
  op: NamedReduction,
): KeyFamily | undefined {
  let family: KeyFamily | undefined;
  for (const partition of batch.partitions) {
    for (const [key, value] of partition) {
      requireNumber(op, key, value);
      const kind = keyFamily(key);
      if (kind === undefined || (family !== undefined && kind !== family)) return undefined;
      family = kind;
    }
  }
  return family;
}

/**
 * Reduces every key's values of a batch with a named reduction, row by row in JavaScript, and
 * hash-partitions the result into `numPartitions` (`partitionOfKey`): the reference the kernel
 * path must equal. The kernels' rules: keys in first-seen order within a
 * partition; `sum` adds in row order starting from `+0`; `count` counts values; `min`/`max` use
 * `Math.min`/`Math.max` (a NaN wins). Values other than numbers are rejected (except for `count`).
 *
 * @example
 * reduceByKeyNamed({ time: 1000, partitions: [[["a", 1], ["a", 2]]] }, "sum", 1); // [[["a", 3]]]
 */
export function reduceByKeyNamed<K>(
  batch: Batch<readonly [K, unknown]>,
  op: NamedReduction,
  numPartitions: number,
): [K, number][][] {
  const groups = Array.from({ length: numPartitions }, () => new KeyedMap<K, number>());
  for (const partition of batch.partitions) {
    for (const [key, value] of partition) {
      requireNumber(op, key, value);
      const target = groups[partitionOfKey(key, numPartitions)] as KeyedMap<K, number>;
      const previous = target.get(key);
      target.set(
        key,
        previous === undefined
          ? startAggregate(op, value as number)
          : stepAggregate(op, previous, value as number),
      );
    }
  }
  return groups.map((group) => [...group]);
}

/**
 * Throws the error `reduceByKey(op)` gives for a value that is not a number (any value counts).
 *
 * @example
 * requireNumber("sum", "k", "7"); // throws SLUICE_INVALID_ARGUMENT
 */
export function requireNumber(op: NamedReduction, key: unknown, value: unknown): void {
  if (op !== "count" && typeof value !== "number") {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `reduceByKey("${op}"): the value of key ${String(key)} is ${typeof value}, not a number; map it to a number first or pass a function`,
    );
  }
}
