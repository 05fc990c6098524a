import type { CoGroupedDStream } from "../dstream/co-grouped-dstream.js";
import type { DStream } from "../dstream/dstream.js";
import type { NamedReducedDStream } from "../dstream/named-reduced-dstream.js";
import { requireNumber } from "../dstream/named-reductions.js";
import { keyFamily } from "../dstream/pair-columns.js";
import { isPartitionOperator } from "../dstream/partition-operator.js";
import type { ShuffledDStream } from "../dstream/shuffled-dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import {
  type NamedReduction,
  partialMergeOp,
  startAggregate,
  stepAggregate,
} from "../kernels/aggregate-op.js";
import type { Kernels } from "../kernels/kernels.js";
import { keyColumnFromStrings } from "../kernels/key-column.js";
import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { ShuffleBucket, TaskResult, TaskSpec } from "./messages.js";
import {
  bucketBytes,
  bucketRows,
  columnarBuckets,
  concatColumnar,
  rowsBucket,
} from "./shuffle-buckets.js";

type Pair = readonly [unknown, unknown];
type ColumnarBucket = Extract<ShuffleBucket, { format: "utf8-f64" }>;

interface MutablePhases {
  functionsMs: number;
  shuffleMs: number;
  aggregateMs: number;
}

/**
 * Runs one task on an executor over its copy of the job's graph: reads its input (a partition
 * shipped by the driver, or a shuffle's buckets), applies the per-partition operators of its
 * chain, and returns records or writes shuffle buckets. Errors carry the id of the operator that
 * threw (`sluiceStreamId`).
 *
 * @example
 * const result = runTask(streams, task, chooseKernels().kernels);
 */
export function runTask(
  streams: ReadonlyMap<number, DStream<unknown>>,
  task: TaskSpec,
  kernels: Kernels,
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
  let records: ReadonlyArray<unknown>;
  const { input } = task;
  if (input.kind === "records") {
    records = input.records;
  } else {
    const read = annotate(input.shuffleId, () =>
      readShuffle(find(input.shuffleId), input.buckets, kernels, phases),
    );
    if (!Array.isArray(read)) {
      if (task.chain.length === 0 && task.output.kind === "records") return { ...read, phases };
      records = decodeGroups(read);
    } else {
      records = read;
    }
  }
  for (const id of task.chain) {
    const stream = find(id);
    if (!isPartitionOperator(stream)) {
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `stream ${id} (${stream.operatorName}) is not per-partition`,
      );
    }
    const started = performance.now();
    records = annotate(id, () => stream.applyToPartition(records, task.partition));
    phases.functionsMs += performance.now() - started;
  }
  if (task.output.kind === "records") {
    return { kind: "records", records: records as unknown[], phases };
  }
  const { shuffleId, side } = task.output;
  const buckets = annotate(shuffleId, () =>
    writeShuffle(find(shuffleId), side, records as ReadonlyArray<Pair>, kernels, phases),
  );
  let bytes = 0;
  for (const bucket of buckets) bytes += bucketBytes(bucket);
  return { kind: "buckets", buckets, bytes, phases };
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

interface Utf8Partition {
  readonly kind: "utf8-groups";
  readonly keys: SharedArrayBuffer;
  readonly offsets: SharedArrayBuffer;
  readonly values: SharedArrayBuffer;
}

function writeShuffle(
  stream: DStream<unknown>,
  side: number,
  records: ReadonlyArray<Pair>,
  kernels: Kernels,
  phases: MutablePhases,
): ShuffleBucket[] {
  if (stream instanceof stream.scope.operators.NamedReducedDStream) {
    return writeNamed(stream as NamedReducedDStream<unknown>, records, kernels, phases);
  }
  if (stream instanceof stream.scope.operators.ShuffledDStream) {
    const shuffled = stream as ShuffledDStream<unknown, unknown, unknown>;
    const started = performance.now();
    const buckets = combineMapSide(shuffled, records);
    const combined = performance.now();
    phases.aggregateMs += combined - started;
    const out = buckets.map(rowsBucket);
    phases.shuffleMs += performance.now() - combined;
    return out;
  }
  if (stream instanceof stream.scope.operators.CoGroupedDStream && side >= 0) {
    const numPartitions = (stream as CoGroupedDStream<unknown, unknown, unknown>).numPartitions;
    const started = performance.now();
    const out = placeRows(records, numPartitions).map(rowsBucket);
    phases.shuffleMs += performance.now() - started;
    return out;
  }
  throw new SluiceError(
    "SLUICE_INTERNAL",
    `stream ${stream.id} (${stream.operatorName}) is not a shuffle`,
  );
}

function readShuffle(
  stream: DStream<unknown>,
  buckets: ReadonlyArray<ReadonlyArray<ShuffleBucket>>,
  kernels: Kernels,
  phases: MutablePhases,
): unknown[] | Utf8Partition {
  if (stream instanceof stream.scope.operators.NamedReducedDStream) {
    const op = (stream as NamedReducedDStream<unknown>).op;
    return readNamed(op, buckets[0] ?? [], kernels, phases);
  }
  if (stream instanceof stream.scope.operators.ShuffledDStream) {
    const shuffled = stream as ShuffledDStream<unknown, unknown, unknown>;
    const started = performance.now();
    const rows = (buckets[0] ?? []).map((bucket) => decodeRows(bucket));
    const decoded = performance.now();
    phases.shuffleMs += decoded - started;
    const out = combineReduceSide(shuffled, rows);
    phases.aggregateMs += performance.now() - decoded;
    return out;
  }
  if (stream instanceof stream.scope.operators.CoGroupedDStream) {
    const started = performance.now();
    const sides = buckets.map((sideBuckets) => sideBuckets.map((bucket) => decodeRows(bucket)));
    const decoded = performance.now();
    phases.shuffleMs += decoded - started;
    const out = cogroupReduceSide(sides);
    phases.aggregateMs += performance.now() - decoded;
    return out;
  }
  throw new SluiceError(
    "SLUICE_INTERNAL",
    `stream ${stream.id} (${stream.operatorName}) is not a shuffle`,
  );
}

function decodeRows(bucket: ShuffleBucket): Pair[] {
  if (bucket.format === "v8") return bucketRows(bucket) as Pair[];
  return decodeGroups(bucket);
}

function placeRows(records: ReadonlyArray<Pair>, numPartitions: number): Pair[][] {
  const out: Pair[][] = Array.from({ length: numPartitions }, () => []);
  for (const pair of records) (out[partitionOfKey(pair[0], numPartitions)] as Pair[]).push(pair);
  return out;
}

/** The map side of `combineByKey` (as `shuffle.ts` computes it for one input partition). */
function combineMapSide(
  stream: ShuffledDStream<unknown, unknown, unknown>,
  records: ReadonlyArray<Pair>,
): Pair[][] {
  const { aggregator, numPartitions, mapSideCombine } = stream;
  if (!mapSideCombine) return placeRows(records, numPartitions);
  const local = new KeyedMap<unknown, unknown>();
  for (const [key, value] of records) {
    local.set(
      key,
      local.has(key)
        ? aggregator.mergeValue(local.get(key), value)
        : aggregator.createCombiner(value),
    );
  }
  return placeRows([...local], numPartitions);
}

/** The reduce side of `combineByKey`: map outputs merged in map-partition order. */
function combineReduceSide(
  stream: ShuffledDStream<unknown, unknown, unknown>,
  mapOutputs: ReadonlyArray<ReadonlyArray<Pair>>,
): [unknown, unknown][] {
  const { aggregator, mapSideCombine } = stream;
  const target = new KeyedMap<unknown, unknown>();
  for (const rows of mapOutputs) {
    for (const [key, value] of rows) {
      if (mapSideCombine) {
        target.set(
          key,
          target.has(key) ? aggregator.mergeCombiners(target.get(key), value) : value,
        );
      } else {
        target.set(
          key,
          target.has(key)
            ? aggregator.mergeValue(target.get(key), value)
            : aggregator.createCombiner(value),
        );
      }
    }
  }
  return [...target];
}

/** The reduce side of `cogroup`: per key, one array of values per parent, parents in order. */
function cogroupReduceSide(
  sides: ReadonlyArray<ReadonlyArray<ReadonlyArray<Pair>>>,
): [unknown, unknown[][]][] {
  const target = new KeyedMap<unknown, unknown[][]>();
  sides.forEach((mapOutputs, sideIndex) => {
    for (const rows of mapOutputs) {
      for (const [key, value] of rows) {
        let groups = target.get(key);
        if (groups === undefined) {
          groups = sides.map(() => []);
          target.set(key, groups);
        }
        (groups[sideIndex] as unknown[]).push(value);
      }
    }
  });
  return [...target];
}

/**
 * The map side of a named reduction. String keys with numbers go columnar through the kernels:
 * raw rows for `sum` (float addition must happen in row order to equal `local[1]` bit for bit),
 * partial aggregates for `count`, `min` and `max` (exact whatever the grouping). Other keys go
 * as rows.
 */
function writeNamed(
  stream: NamedReducedDStream<unknown>,
  records: ReadonlyArray<Pair>,
  kernels: Kernels,
  phases: MutablePhases,
): ShuffleBucket[] {
  const { op, numPartitions } = stream;
  const started = performance.now();
  let columnar = true;
  for (const [key, value] of records) {
    requireNumber(op, key, value);
    if (keyFamily(key) !== "utf8") columnar = false;
  }
  if (!columnar) {
    const out = placeRows(records, numPartitions).map(rowsBucket);
    phases.shuffleMs += performance.now() - started;
    return out;
  }
  const keys = records.map(([key]) => key as string);
  const values = new Float64Array(records.length);
  if (op !== "count")
    for (let i = 0; i < records.length; i++) values[i] = records[i]?.[1] as number;
  const column = keyColumnFromStrings(keys);
  const encoded = performance.now();
  phases.shuffleMs += encoded - started;
  if (op === "sum") return columnarBuckets(kernels, column, values, numPartitions, false);
  const groups = kernels.reduceByKeyUtf8(column, values, op);
  const aggregated = performance.now();
  phases.aggregateMs += aggregated - encoded;
  const out = columnarBuckets(kernels, groups.keys, groups.values, numPartitions, true);
  phases.shuffleMs += performance.now() - aggregated;
  return out;
}

function readNamed(
  op: NamedReduction,
  buckets: ReadonlyArray<ShuffleBucket>,
  kernels: Kernels,
  phases: MutablePhases,
): unknown[] | Utf8Partition {
  const started = performance.now();
  if (buckets.every((bucket) => bucket.format === "utf8-f64")) {
    const columnar = buckets as ReadonlyArray<ColumnarBucket>;
    const { column, values } = concatColumnar(columnar);
    const concatenated = performance.now();
    phases.shuffleMs += concatenated - started;
    const anyPartial = columnar.some((bucket) => bucket.partial);
    const groups = kernels.reduceByKeyUtf8(column, values, anyPartial ? partialMergeOp(op) : op);
    const aggregated = performance.now();
    phases.aggregateMs += aggregated - concatenated;
    const result: Utf8Partition = {
      kind: "utf8-groups",
      keys: toShared(groups.keys.keys),
      offsets: toShared(groups.keys.offsets),
      values: toShared(groups.values),
    };
    phases.shuffleMs += performance.now() - aggregated;
    return result;
  }
  // Some map task met keys other than strings: merge row by row, as `reduceByKeyNamed` does.
  const target = new KeyedMap<unknown, number>();
  for (const bucket of buckets) {
    const partial = bucket.format === "utf8-f64" && bucket.partial;
    for (const [key, raw] of decodeRows(bucket)) {
      const value = raw as number;
      const previous = target.get(key);
      const merging = partial ? partialMergeOp(op) : op;
      if (previous === undefined) target.set(key, partial ? value : startAggregate(op, value));
      else target.set(key, stepAggregate(merging, previous, value));
    }
  }
  phases.aggregateMs += performance.now() - started;
  return [...target];
}

function toShared(view: ArrayBufferView): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(view.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return buffer;
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
