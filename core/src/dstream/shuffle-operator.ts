import type { Kernels } from "../kernels/kernels.js";
import type { AllocateBuffer } from "../kernels/key-column.js";
import type { Batch } from "./batch.js";
import { batchOf, type ColumnarPartition, materialise } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import type { FamilyKeys } from "./pair-columns.js";
import type { TextPairs } from "./text-pairs-batch.js";

/**
 * One map task's rows for one output partition of a shuffle: JS rows (`[key, value]` or
 * `[key, combiner]`), or columns (keys of one family and one number per row) for the named
 * reductions. A `partial` block of a named reduction holds one partial aggregate per key, else
 * raw rows. Rows that are `[string, number]` may come as text pairs (`pairs`, see
 * `textPairsBlock`), made into `rows` only when those are read.
 */
export type ShuffleBlock =
  | {
      readonly kind: "rows";
      readonly rows: ReadonlyArray<readonly [unknown, unknown]>;
      readonly partial: boolean;
      /** The same rows as text pairs, for a reader that takes them without making rows. */
      readonly pairs?: TextPairs;
    }
  | {
      readonly kind: "columns";
      readonly keys: FamilyKeys;
      readonly values: Float64Array;
      readonly partial: boolean;
    };

/** What one map task reads: the records of one partition of a parent, or its columns. */
export type MapInput = ReadonlyArray<unknown> | ColumnarPartition;

/** One output partition of a shuffle: records, or columns decoded when read. */
export type ReduceOutput = ReadonlyArray<unknown> | ColumnarPartition;

/** What a map side is told about where it runs. */
export interface MapSideOptions {
  readonly kernels: Kernels;
  /**
   * True when this map task reads every row of the shuffle (one parent partition in all, or the
   * whole batch in memory), so partial aggregates are final and a sum may be reduced here.
   */
  readonly soleMapTask: boolean;
  /** Where columns of the blocks are allocated: shared memory when they cross threads. */
  readonly allocate?: AllocateBuffer;
}

/**
 * An operator that needs every partition of its parents (Spark's shuffle dependency:
 * `combineByKey` and what is built on it, the named reductions, `cogroup` and the joins), split
 * into a map side, run once per parent partition, and a reduce side, run once per output
 * partition over the blocks of every map task in map order. Its local `compute` runs both in
 * memory; executors run them as map and reduce tasks and only move the blocks, so every master
 * runs the same code over the same blocks in the same order.
 *
 * @example
 * if (isShuffleOperator(stream)) stream.mapSide(records, 0, { kernels, soleMapTask: false });
 */
export interface ShuffleOperator {
  /** The streams whose partitions the map tasks read, in side order (two for cogroup). */
  readonly shuffleParents: ReadonlyArray<DStream<unknown>>;
  /** Output partitions: one reduce side each. */
  readonly numPartitions: number;
  /** True when a parent without a batch is an error (cogroup); else there is no batch. */
  readonly requiresEveryParent: boolean;
  /** The blocks of one map task over a partition of parent `side`: one per output partition. */
  mapSide(input: MapInput, side: number, options: MapSideOptions): ShuffleBlock[];
  /**
   * One output partition from its blocks: per side, the block of every map task in map order.
   */
  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>, kernels: Kernels): ReduceOutput;
  /**
   * The output partition as text pairs, when the operator can make them without rows (blocks of
   * text pairs in, `[string, number]` rows out) and the result leaves the thread as it is; else
   * `undefined`, and `reduceSide` gives it.
   */
  reduceSideAsTextPairs?(
    blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>,
    allocate: AllocateBuffer,
  ): TextPairs | undefined;
}

/**
 * True when `stream` is computed through a shuffle.
 *
 * @example
 * isShuffleOperator(pairs.reduceByKey("sum")); // true
 */
export function isShuffleOperator(
  stream: DStream<unknown>,
): stream is DStream<unknown> & ShuffleOperator {
  const candidate = stream as Partial<ShuffleOperator>;
  return typeof candidate.mapSide === "function" && typeof candidate.reduceSide === "function";
}

/**
 * A shuffle computed in memory: the map side over every input (per side, in order), then the
 * reduce side of every output partition over those blocks — what the executors do as tasks.
 *
 * @example
 * shuffleInMemory(this, [batch.partitions], time, this.scope.kernels);
 */
export function shuffleInMemory<T>(
  operator: ShuffleOperator,
  inputs: ReadonlyArray<ReadonlyArray<MapInput>>,
  time: number,
  kernels: Kernels,
): Batch<T> {
  let mapTasks = 0;
  for (const side of inputs) mapTasks += side.length;
  const options: MapSideOptions = { kernels, soleMapTask: mapTasks === 1 };
  const mapOutputs = inputs.map((side, sideIndex) =>
    side.map((input) => operator.mapSide(input, sideIndex, options)),
  );
  const partitions = Array.from({ length: operator.numPartitions }, (_, partition) =>
    operator.reduceSide(
      mapOutputs.map((side) => side.map((blocks) => blocks[partition] as ShuffleBlock)),
      kernels,
    ),
  );
  return batchOf<T>(time, partitions);
}

/**
 * Rows blocks, one per output partition (`partial`: one partial aggregate per key).
 *
 * @example
 * rowsBlocks([[["a", 1]], []]); // [{ kind: "rows", rows: [["a", 1]], partial: false }, …]
 */
export function rowsBlocks(
  placed: ReadonlyArray<ReadonlyArray<readonly [unknown, unknown]>>,
  partial = false,
): ShuffleBlock[] {
  return placed.map((rows) => ({ kind: "rows", rows, partial }));
}

/**
 * The records of a map input (columns decoded into JS values).
 *
 * @example
 * mapInputRecords([["a", 1]]); // [["a", 1]]
 */
export function mapInputRecords(input: MapInput): ReadonlyArray<unknown> {
  return Array.isArray(input) ? input : materialise(input as ColumnarPartition);
}

/**
 * The rows of a rows block; a shuffle that moves only rows (combineByKey, cogroup) never gets
 * columns, so any is a bug.
 *
 * @example
 * blockRows({ kind: "rows", rows: [["a", 1]], partial: false }); // [["a", 1]]
 */
export function blockRows(block: ShuffleBlock): ReadonlyArray<readonly [unknown, unknown]> {
  if (block.kind === "rows") return block.rows;
  throw new TypeError("this shuffle moves rows only, and a map side wrote columns");
}
