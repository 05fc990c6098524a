import { SluiceError } from "../errors/sluice-error.js";
import {
  AGGREGATE_OPS,
  type NamedReduction,
  partialMergeOp,
  startAggregate,
  stepAggregate,
} from "../kernels/aggregate-op.js";
import type { Kernels } from "../kernels/kernels.js";
import { concatKeyColumns, isUtf8Column } from "../kernels/key-column.js";
import { KeyedMap } from "../util/keyed-map.js";
import type { Batch } from "./batch.js";
import { batchOf, type ColumnarPartition, columnsOf, pairValues } from "./columnar-batch.js";
import {
  concatFamilyColumns,
  concatValues,
  EMPTY_VALUES,
  encodeKeys,
  type FamilyColumns,
  familyPairs,
  familyPartition,
  type KeyFamily,
  keyFamily,
  placeColumns,
} from "./pair-columns.js";
import { placeRows } from "./shuffle.js";
import {
  blockRows,
  type MapInput,
  type MapSideOptions,
  mapInputRecords,
  type ReduceOutput,
  rowsBlocks,
  type ShuffleBlock,
} from "./shuffle-operator.js";

/**
 * The reductions `reduceByKey` accepts by name (the kernels' ops but `mean`). They are
 * declarative, so they run on the columnar kernels (`reduceBatchNamed`); `reduceByKeyNamed` is
 * the row-by-row reference with the same rules, for keys the kernels cannot group and for small
 * batches.
 */
export type { NamedReduction };

const NAMES: ReadonlySet<unknown> = new Set(AGGREGATE_OPS.filter((op) => op !== "mean"));

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
 * Reduces every key's values of a batch with a named reduction: the shuffle's map side over the
 * whole batch as one map task (`mapNamed`), then its reduce side per output partition
 * (`reduceNamed`). The map side takes the kernels when it can: a columnar batch of
 * `[string, number]` pairs (valid UTF-8) always; JS pairs from `PAIRS_JS_BELOW_ROWS` rows on
 * (`jsBelowRows` overrides it) when every key is of one `KeyFamily`; otherwise the rows go as
 * they are, reduced row by row. Either way the same batch: the same partitions
 * (`partitionOfKey`), keys in first-seen order within each, values summed in row order from
 * `+0`. UTF-8 results stay columns until something reads them.
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
  const blocks = mapNamed(wholeBatch(batch), op, numPartitions, {
    kernels,
    soleMapTask: true,
    ...options,
  });
  return batchOf<[K, number]>(
    batch.time,
    blocks.map((block) => reduceNamed([block], op, kernels)),
  );
}

/**
 * A batch's partitions as one map input: in memory nothing is gained by a map task per
 * partition, and one map task over every row reduces a sum on the map side.
 *
 * @example
 * wholeBatch({ time: 1000, partitions: [[["a", 1]], [["b", 2]]] }); // [["a", 1], ["b", 2]]
 */
export function wholeBatch(batch: Batch<readonly [unknown, unknown]>): MapInput {
  const columns = columnsOf(batch, "pairs");
  if (columns !== undefined) {
    if (columns.length === 1) return columns[0] as ColumnarPartition;
    const shared = columns[0]?.values;
    const sameValue =
      typeof shared === "number" && columns.every((partition) => partition.values === shared);
    return {
      kind: "pairs",
      keys: concatKeyColumns(columns.map((partition) => partition.keys)),
      values: sameValue ? shared : concatValues(columns.map(pairValues)),
    };
  }
  const { partitions } = batch;
  if (partitions.length === 1) return partitions[0] as ReadonlyArray<unknown>;
  // One bulk copy per partition (concat), not a push per row.
  return ([] as unknown[]).concat(...partitions);
}

/** How a named reduction's map side runs. */
export interface NamedMapOptions extends MapSideOptions {
  /** From how many rows JS pairs take the kernels (default: `PAIRS_JS_BELOW_ROWS`). */
  readonly jsBelowRows?: number;
}

/**
 * The map side of a named reduction over one map task's input. Keys the kernels can group go as
 * columns, placed with the kernels: a sum's raw rows (float addition must happen in row order to
 * equal one thread's result bit for bit) unless this is the sole map task, and one partial
 * aggregate per key otherwise (exact whatever the grouping). Other keys, and JS pairs below the
 * threshold, go as rows, combined here in the same cases. Every value is checked to be a number
 * (but for `count`), in row order.
 *
 * @example
 * mapNamed([["a", 1], ["a", 2]], "sum", 2, { kernels, soleMapTask: false });
 */
export function mapNamed(
  input: MapInput,
  op: NamedReduction,
  numPartitions: number,
  options: NamedMapOptions,
): ShuffleBlock[] {
  const { kernels } = options;
  const partial = op !== "sum" || options.soleMapTask;
  const columns = kernelColumns(input, op, kernels, options.jsBelowRows);
  if (columns === undefined) {
    const rows = mapInputRecords(input) as ReadonlyArray<readonly [unknown, unknown]>;
    return mapNamedRows(rows, op, numPartitions, partial);
  }
  const grouped = partial ? reduceFamily(kernels, columns, op) : columns;
  return placeColumns(kernels, grouped.keys, grouped.values, numPartitions, options.allocate).map(
    (placed) => ({ kind: "columns", ...placed, partial }),
  );
}

/** The map side over JS rows: every value checked, then reduced here when `partial`, placed. */
function mapNamedRows(
  rows: ReadonlyArray<readonly [unknown, unknown]>,
  op: NamedReduction,
  numPartitions: number,
  partial: boolean,
): ShuffleBlock[] {
  for (const [key, value] of rows) requireNumber(op, key, value);
  if (!partial) return rowsBlocks(placeRows(rows, numPartitions));
  const groups = mergeRows([{ kind: "rows", rows, partial: false }], op);
  return rowsBlocks(placeRows(groups, numPartitions), true);
}

/**
 * The reduce side of a named reduction over the blocks of every map task, in map order. Columns
 * of one family are concatenated and reduced by the kernels (partial aggregates with
 * `partialMergeOp`); a single partial block is already the result. With any rows, every block is
 * merged row by row with the same rule. String results stay columns (`pairs`). Blocks are in
 * ordinary memory (executors copy them out of shared memory).
 *
 * @example
 * reduceNamed(blocks, "count", kernels);
 */
export function reduceNamed(
  blocks: ReadonlyArray<ShuffleBlock>,
  op: NamedReduction,
  kernels: Kernels,
): ReduceOutput {
  if (blocks.length === 0) return [];
  const filled = blocks.filter((block) => blockSize(block) > 0);
  const only = filled.length === 0 ? blocks[0] : filled.length === 1 ? filled[0] : undefined;
  if (only !== undefined && (only.partial || filled.length === 0)) {
    return only.kind === "rows" ? only.rows : familyPartition(only);
  }
  const columns = filled.filter(
    (block): block is Extract<ShuffleBlock, { kind: "columns" }> => block.kind === "columns",
  );
  const family = columns[0]?.keys.family;
  if (columns.length < filled.length || columns.some((block) => block.keys.family !== family)) {
    return mergeRows(filled, op);
  }
  const partial = columns.some((block) => block.partial);
  return familyPartition(
    reduceFamily(kernels, concatFamilyColumns(columns), partial ? partialMergeOp(op) : op),
  );
}

function blockSize(block: ShuffleBlock): number {
  return block.kind === "rows" ? block.rows.length : rowsOfKeys(block);
}

function rowsOfKeys(block: FamilyColumns): number {
  return block.keys.family === "utf8" ? block.keys.keys.offsets.length - 1 : block.keys.keys.length;
}

/** Blocks merged row by row in map order (`startAggregate`, `stepAggregate`). */
function mergeRows(blocks: ReadonlyArray<ShuffleBlock>, op: NamedReduction): [unknown, number][] {
  const target = new KeyedMap<unknown, number>();
  for (const block of blocks) {
    const { partial } = block;
    const merging = partial ? partialMergeOp(op) : op;
    const rows = block.kind === "rows" ? block.rows : familyPairs(block);
    for (const [key, raw] of rows) {
      const value = raw as number;
      const previous = target.get(key);
      target.set(
        key,
        previous === undefined
          ? partial
            ? value
            : startAggregate(op, value)
          : stepAggregate(merging, previous, value),
      );
    }
  }
  return [...target];
}

/** One row per key with its aggregate, from the kernels. */
function reduceFamily(kernels: Kernels, columns: FamilyColumns, op: NamedReduction): FamilyColumns {
  const values = op === "count" ? EMPTY_VALUES : columns.values;
  const { keys } = columns;
  if (keys.family === "utf8") {
    const groups = kernels.reduceByKeyUtf8(keys.keys, values, op);
    return { keys: { family: "utf8", keys: groups.keys }, values: groups.values };
  }
  const groups = kernels.reduceByKeyI64(keys.keys, values, op);
  return { keys: { family: keys.family, keys: groups.keys }, values: groups.values };
}

/** A map input as the kernels' columns, or undefined where they do not apply. */
function kernelColumns(
  input: MapInput,
  op: NamedReduction,
  kernels: Kernels,
  jsBelowRows: number | undefined,
): FamilyColumns | undefined {
  if (!Array.isArray(input)) {
    const partition = input as ColumnarPartition;
    if (partition.kind !== "pairs" || !isUtf8Column(partition.keys)) return undefined;
    const values = op === "count" ? EMPTY_VALUES : pairValues(partition);
    return { keys: { family: "utf8", keys: partition.keys }, values };
  }
  const rows = input as ReadonlyArray<readonly [unknown, unknown]>;
  const thresholds = PAIRS_JS_BELOW_ROWS[kernels.kind];
  const least = jsBelowRows ?? Math.min(thresholds.number, thresholds.bigint, thresholds.utf8);
  const family = rows.length >= least ? commonKeyFamily(rows, op) : undefined;
  if (family === undefined || rows.length < (jsBelowRows ?? thresholds[family])) return undefined;
  const keys = new Array<unknown>(rows.length);
  const values = op === "count" ? EMPTY_VALUES : new Float64Array(rows.length);
  for (let row = 0; row < rows.length; row++) {
    const pair = rows[row] as readonly [unknown, unknown];
    keys[row] = pair[0];
    if (op !== "count") values[row] = pair[1] as number;
  }
  return { keys: encodeKeys(keys, family), values };
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
 * From how many rows a map task's JS pairs with string keys go to the kernels as UTF-8 columns
 * (`PAIRS_JS_BELOW_ROWS`; infinite: never). A fused loop ending in such a map side writes the
 * columns itself from that many pairs on (`FusedPairColumns`).
 *
 * @example
 * utf8ColumnsFromRows(scope.kernels); // 2048 with the native kernels
 */
export function utf8ColumnsFromRows(kernels: Kernels): number {
  return PAIRS_JS_BELOW_ROWS[kernels.kind].utf8;
}

/**
 * The family every key shares, or `undefined` at the first key of another (mixed or other keys;
 * the rows path then checks every value itself). Checks the values on the way, in row order, so
 * a bad value fails as it does row by row.
 */
function commonKeyFamily(
  rows: ReadonlyArray<readonly [unknown, unknown]>,
  op: NamedReduction,
): KeyFamily | undefined {
  let family: KeyFamily | undefined;
  for (const [key, value] of rows) {
    requireNumber(op, key, value);
    const kind = keyFamily(key);
    if (kind === undefined || (family !== undefined && kind !== family)) return undefined;
    family = kind;
  }
  return family;
}

/**
 * Reduces every key's values of a batch with a named reduction, row by row in JavaScript, and
 * hash-partitions the result into `numPartitions` (`partitionOfKey`): the map side's rows path
 * over the whole batch as one map task, and the reference the kernel path must equal. The
 * kernels' rules (`startAggregate`, `stepAggregate`): keys in first-seen order within a
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
  const records = mapInputRecords(wholeBatch(batch)) as ReadonlyArray<readonly [K, unknown]>;
  return mapNamedRows(records, op, numPartitions, true).map(
    (block) => blockRows(block) as [K, number][],
  );
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
