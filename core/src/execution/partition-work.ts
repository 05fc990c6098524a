import { readsColumns } from "../dstream/column-mapped-dstream.js";
import { type ColumnarPartition, materialise } from "../dstream/columnar-batch.js";
import type { DStream } from "../dstream/dstream.js";
import { applyChain, pairColumnsFromRows } from "../dstream/fused-chain.js";
import { isPartitionOperator } from "../dstream/partition-operator.js";
import { PiecewiseText } from "../dstream/piecewise-text.js";
import { feedOf, isRecordStep, type RecordFeed, type RecordStep } from "../dstream/record-step.js";
import {
  isShuffleOperator,
  type MapInput,
  type ReduceOutput,
  type ShuffleBlock,
  type ShuffleOperator,
} from "../dstream/shuffle-operator.js";
import type { TextPairs } from "../dstream/text-pairs-batch.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { Kernels, KeyColumn } from "../kernels/kernels.js";
import { type AllocateBuffer, decodeKeyColumn, forEachDecodedKey } from "../kernels/key-column.js";
import type { ShuffleBucket, TaskInput, TaskResult, TaskSpec } from "./messages.js";
import { revived } from "./shipped-columns.js";
import { shippedPairs } from "./shipped-pairs.js";
import { forEachShippedString, recordsOfStrings, type ShippedStrings } from "./shipped-strings.js";
import {
  bucketBytes,
  decodeBucket,
  encodeBucket,
  shared,
  sharedMemory,
} from "./shuffle-buckets.js";

interface MutablePhases {
  functionsMs: number;
  shuffleMs: number;
  aggregateMs: number;
}

/**
 * Runs one task on an executor over its copy of the job's graph: reads its input (a partition
 * shipped by the driver, or a shuffle's buckets), applies the per-partition operators of its
 * chain (consecutive per-record operators as one loop, `applyChain`), and returns records or
 * writes shuffle buckets. Errors carry the id of the operator that threw (`sluiceStreamId`).
 *
 * @example
 * const result = runTask(streams, task, chooseKernels().kernels, (blockId) => kept.get(blockId));
 */
export function runTask(
  streams: ReadonlyMap<number, DStream<unknown>>,
  task: TaskSpec,
  kernels: Kernels,
  keptBlock: (blockId: string) => ReadonlyArray<unknown> | undefined = () => undefined,
): TaskResult {
  const phases: MutablePhases = { functionsMs: 0, shuffleMs: 0, aggregateMs: 0 };
  const find = (id: number): DStream<unknown> => {
    const stream = streams.get(id);
    if (stream === undefined) {
      throw new SluiceError(
        "SLUICE_JOB_MISMATCH",
        `the executor's graph has no stream ${id}: the job module built a different graph here than on the driver`,
      );
    }
    return stream;
  };
  let records: ReadonlyArray<unknown> | undefined;
  // A partition of strings, or of lines in a text column, is made into an array of records only
  // when something reads it as one: a loop into a shuffle reads them one at a time.
  let lazy: LazyRecords | undefined;
  let columns: ColumnarPartition | undefined;
  const { input } = task;
  if (input.kind === "records") {
    records = input.records;
  } else if (input.kind === "strings") {
    lazy = { kind: "strings", strings: input.strings };
  } else if (input.kind === "columns") {
    columns = revived(input.columns);
  } else if (input.kind === "block") {
    records = keptBlock(input.blockId);
    if (records === undefined) {
      // The driver sends a block's tasks only to the executor it gave the block to, after it.
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `the task's partition (block ${input.blockId}) is not kept on this executor`,
      );
    }
  } else {
    const read = readShuffle(shuffleOf(find(input.shuffleId)), input, task, kernels, phases);
    if ("kind" in read) return read;
    ({ records, columns } = read);
  }
  const chained = task.chain.map((id) => {
    const stream = find(id);
    if (!isPartitionOperator(stream)) {
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `stream ${id} (${stream.operatorName}) is not per-partition`,
      );
    }
    return stream;
  });
  const { output } = task;
  const shuffle = output.kind === "records" ? undefined : find(output.shuffleId);
  const started = performance.now();
  // Columns go to an operator that reads them as they are, or are decoded for the chain.
  let operators = chained;
  if (columns !== undefined) {
    const first = chained[0];
    if (first !== undefined && readsColumns(first)) {
      records = first.applyToColumns(columns, task.partition);
      operators = chained.slice(1);
    } else if (columns.kind === "text") {
      // Lines that came in pieces are read piece by piece, never joined here.
      lazy =
        columns instanceof PiecewiseText && !columns.isJoined
          ? { kind: "text", columns: columns.pieces }
          : { kind: "text", columns: [columns.keys] };
    } else {
      records = materialise(columns);
    }
  }
  // A chain of per-record operators into reduceByKey/combineByKey: one loop into the combiners.
  const through = shuffle === undefined ? undefined : mapSideThroughOf(shuffle);
  if (
    output.kind === "shuffle-write" &&
    through !== undefined &&
    operators.length > 0 &&
    operators.every((operator) => isRecordStep(operator))
  ) {
    const feed = lazy === undefined ? records && feedOf(records) : feedOfLazy(lazy);
    if (feed === undefined) throw noRecords();
    const blocks = annotate(output.shuffleId, () =>
      through(
        feed,
        operators as ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
        true,
        sharedMemory,
      ),
    );
    const mapped = performance.now();
    phases.functionsMs += mapped - started;
    const buckets = blocks.map(encodeBucket);
    phases.shuffleMs += performance.now() - mapped;
    let bytes = 0;
    for (const bucket of buckets) bytes += bucketBytes(bucket);
    return { kind: "buckets", buckets, bytes, phases };
  }
  if (lazy !== undefined) records = recordsOfLazy(lazy);
  if (records === undefined) throw noRecords();
  // Consecutive per-record operators run as one loop; feeding a named reduction, their pairs go
  // straight into its columns.
  const applied: MapInput =
    operators.length === 0
      ? records
      : applyChain(
          operators,
          records,
          task.partition,
          shuffle === undefined ? undefined : pairColumnsFromRows(shuffle),
        );
  phases.functionsMs += performance.now() - started;
  if (output.kind === "records") {
    return { kind: "records", records: applied as unknown[], phases };
  }
  const { shuffleId, side, mapTasks } = output;
  const buckets = annotate(shuffleId, () =>
    writeShuffle(
      shuffleOf(shuffle as DStream<unknown>),
      side,
      applied,
      mapTasks === 1,
      kernels,
      phases,
    ),
  );
  let bytes = 0;
  for (const bucket of buckets) bytes += bucketBytes(bucket);
  return { kind: "buckets", buckets, bytes, phases };
}

/** A task's input records not made yet: shipped strings, or the lines of a text column. */
type LazyRecords =
  | { readonly kind: "strings"; readonly strings: ShippedStrings }
  | { readonly kind: "text"; readonly columns: readonly KeyColumn[] };

/** The records of `lazy` one by one, each made as it is handed over. */
function feedOfLazy(lazy: LazyRecords): RecordFeed {
  return lazy.kind === "strings"
    ? (push) => forEachShippedString(lazy.strings, push)
    : (push) => {
        for (const column of lazy.columns) forEachDecodedKey(column, push);
      };
}

/** The records of `lazy` as an array. */
function recordsOfLazy(lazy: LazyRecords): ReadonlyArray<unknown> {
  if (lazy.kind === "strings") return recordsOfStrings(lazy.strings);
  const [only, ...more] = lazy.columns;
  return only !== undefined && more.length === 0
    ? decodeKeyColumn(only)
    : lazy.columns.flatMap((column) => decodeKeyColumn(column));
}

function noRecords(): SluiceError {
  return new SluiceError("SLUICE_INTERNAL", "a task's input gave neither records nor columns");
}

/** A shuffle's map side that takes per-record operators into one loop, if it has one. */
type MapSideThrough = (
  feed: RecordFeed,
  steps: ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
  tagErrors: boolean,
  allocate: AllocateBuffer,
) => ShuffleBlock[];

function mapSideThroughOf(shuffle: DStream<unknown>): MapSideThrough | undefined {
  const method = (shuffle as { mapSideThrough?: MapSideThrough }).mapSideThrough;
  return typeof method === "function" ? method.bind(shuffle) : undefined;
}

/** Runs `work`, marking an error it throws with the operator's id. */
function annotate<R>(streamId: number, work: () => R): R {
  try {
    return work();
  } catch (error) {
    if (typeof error === "object" && error !== null && !("sluiceStreamId" in error)) {
      (error as { sluiceStreamId?: number }).sluiceStreamId = streamId;
    }
    throw error;
  }
}

/** `stream` as a shuffle operator, or an internal error (the driver sent a task of another). */
function shuffleOf(stream: DStream<unknown>): ShuffleOperator {
  if (isShuffleOperator(stream)) return stream;
  throw new SluiceError(
    "SLUICE_INTERNAL",
    `stream ${stream.id} (${stream.operatorName}) is not a shuffle`,
  );
}

/** A map task: the operator's map side, its blocks written into shared memory. */
function writeShuffle(
  operator: ShuffleOperator,
  side: number,
  records: MapInput,
  soleMapTask: boolean,
  kernels: Kernels,
  phases: MutablePhases,
): ShuffleBucket[] {
  const started = performance.now();
  const blocks = operator.mapSide(records, side, {
    kernels,
    soleMapTask,
    allocate: sharedMemory,
  });
  const mapped = performance.now();
  phases.aggregateMs += mapped - started;
  const buckets = blocks.map(encodeBucket);
  phases.shuffleMs += performance.now() - mapped;
  return buckets;
}

/**
 * A reduce task's input: the operator's reduce side over every map task's bucket, as records or
 * columns for the chain after it; or, with no chain and records due, the task's result itself
 * (text pairs or string columns, as they cross to the driver).
 */
function readShuffle(
  operator: ShuffleOperator,
  input: Extract<TaskInput, { kind: "shuffle-read" }>,
  task: TaskSpec,
  kernels: Kernels,
  phases: MutablePhases,
): TaskResult | { records?: ReadonlyArray<unknown>; columns?: ColumnarPartition } {
  const blocks = annotate(input.shuffleId, () => decodeBuckets(input.buckets, phases));
  const returnsRows = task.chain.length === 0 && task.output.kind === "records";
  // A reduce side that gives its `[string, number]` rows as text pairs sends them as they are.
  const pairs = returnsRows
    ? annotate(input.shuffleId, () => reduceAsTextPairs(operator, blocks, phases))
    : undefined;
  if (pairs !== undefined) return { kind: "string-pairs", pairs, phases };
  const read = annotate(input.shuffleId, () => reduce(operator, blocks, kernels, phases));
  if (!Array.isArray(read)) {
    const columns = read as ColumnarPartition;
    return returnsRows && columns.kind === "pairs" ? utf8Groups(columns, phases) : { columns };
  }
  if (!returnsRows) return { records: read };
  // A reduce side's own `[string, number]` rows travel as one string and two arrays.
  const started = performance.now();
  const shipped = shippedPairs(read as ReadonlyArray<readonly [unknown, unknown]>);
  phases.shuffleMs += performance.now() - started;
  return shipped === undefined
    ? { records: read }
    : { kind: "string-pairs", pairs: shipped, phases };
}

/** The buckets of every map task of a reduce task, decoded. */
function decodeBuckets(
  buckets: ReadonlyArray<ReadonlyArray<ShuffleBucket>>,
  phases: MutablePhases,
): ShuffleBlock[][] {
  const started = performance.now();
  const blocks = buckets.map((side) => side.map(decodeBucket));
  phases.shuffleMs += performance.now() - started;
  return blocks;
}

/** A reduce task: the operator's reduce side over the blocks of every map task. */
function reduce(
  operator: ShuffleOperator,
  blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>,
  kernels: Kernels,
  phases: MutablePhases,
): ReduceOutput {
  const started = performance.now();
  const out = operator.reduceSide(blocks, kernels);
  phases.aggregateMs += performance.now() - started;
  return out;
}

/**
 * A reduce task whose operator merges text pairs into text pairs (`reduceSideAsTextPairs`):
 * its result in shared memory, or `undefined` when the operator gives rows instead.
 */
function reduceAsTextPairs(
  operator: ShuffleOperator,
  blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>,
  phases: MutablePhases,
): TextPairs | undefined {
  if (operator.reduceSideAsTextPairs === undefined) return undefined;
  const started = performance.now();
  const pairs = operator.reduceSideAsTextPairs(blocks, sharedMemory);
  phases.aggregateMs += performance.now() - started;
  return pairs;
}

/** A reduce side's string columns as they travel to the driver (decoded there). */
function utf8Groups(
  columns: Extract<ColumnarPartition, { kind: "pairs" }>,
  phases: MutablePhases,
): Extract<TaskResult, { kind: "utf8-groups" }> {
  const started = performance.now();
  const values =
    typeof columns.values === "number"
      ? new Float64Array(columns.keys.offsets.length - 1).fill(columns.values)
      : columns.values;
  const result = {
    kind: "utf8-groups" as const,
    keys: shared(columns.keys.keys.subarray(0, columns.keys.offsets.at(-1) ?? 0)),
    offsets: shared(columns.keys.offsets),
    values: shared(values),
    phases,
  };
  phases.shuffleMs += performance.now() - started;
  return result;
}

/**
 * The `[key, value]` pairs of a columnar partition (string keys decoded here, on the side that
 * needs the records).
 *
 * @example
 * decodeGroups(result); // [["a", 3], ["b", 1]]
 */
export function decodeGroups(groups: {
  readonly keys: SharedArrayBuffer;
  readonly offsets: SharedArrayBuffer;
  readonly values: SharedArrayBuffer;
}): [string, number][] {
  const keys = Buffer.from(groups.keys);
  const offsets = new Uint32Array(groups.offsets);
  const values = new Float64Array(groups.values);
  const out = new Array<[string, number]>(values.length);
  for (let row = 0; row < values.length; row++) {
    const key = keys.toString("utf8", offsets[row] as number, offsets[row + 1] as number);
    out[row] = [key, values[row] as number];
  }
  return out;
}
