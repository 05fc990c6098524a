import type { Batch } from "./batch.js";
import type { ColumnarPartition } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import { FusedPairColumns } from "./fused-pair-columns.js";
import { utf8ColumnsFromRows } from "./named-reductions.js";
import type { PartitionOperator } from "./partition-operator.js";
import {
  applySteps,
  fuseSteps,
  isRecordStep,
  type RecordStep,
  tagStreamId,
} from "./record-step.js";

type Step = DStream<unknown> & RecordStep<unknown, unknown>;

/**
 * True when a fused loop may run through `stream` without it producing a batch of its own:
 * it is a per-record operator, read by exactly one stream (the one below it in the loop: no
 * second child, no output, no window on it) and not cached or persisted.
 *
 * @example
 * canFuseThrough(words); // false once words.print() was called
 */
export function canFuseThrough(stream: DStream<unknown>): boolean {
  return isRecordStep(stream) && !stream.keepsOwnBatch && stream.scope.readersOf(stream) === 1;
}

/**
 * The per-record operators ending at `stream` that run as one loop, parent first, and the
 * stream whose batch the loop reads (the root): the chain goes up through the parents
 * `canFuseThrough` allows.
 *
 * @example
 * fusedChain(pairs); // { root: lines, steps: [words, pairs] } for lines.flatMap(...).map(...)
 */
export function fusedChain(stream: Step): { root: DStream<unknown>; steps: Step[] } {
  const steps: Step[] = [stream];
  let root = stream.parent;
  while (canFuseThrough(root)) {
    const step = root as Step;
    steps.unshift(step);
    root = step.parent;
  }
  return { root, steps };
}

/**
 * The batch of a per-record operator on the main thread: its fused chain over the root's
 * batch, partition by partition, one loop each. When the only reader of `stream` is a named
 * reduction (`reduceByKey("sum")`, `countByValue`, ...), the pairs go straight into key and
 * value columns as the loop makes them (`FusedPairColumns`) where the reduction would take the
 * kernels anyway.
 *
 * @example
 * protected compute(time: number) { return computeFused(this, time); }
 */
export async function computeFused<T>(stream: Step, time: number): Promise<Batch<T> | undefined> {
  const { root, steps } = fusedChain(stream);
  const batch = await root.getOrCompute(time);
  if (batch === undefined) return undefined;
  const columnsFrom = namedReaderColumnsFrom(stream);
  if (columnsFrom !== undefined) {
    const columns = new FusedPairColumns(columnsFrom);
    for (const records of batch.partitions) {
      const push = fuseSteps(steps, columns.startPartition());
      for (let i = 0; i < records.length; i++) push(records[i]);
    }
    return columns.finish<T>(time);
  }
  return {
    time,
    partitions: batch.partitions.map((records) => applySteps(records, steps) as T[]),
  };
}

/**
 * From how many rows the pairs of `stream` would reach the kernels as UTF-8 columns, when its
 * only reader is a named reduction; else `undefined`.
 */
function namedReaderColumnsFrom(stream: Step): number | undefined {
  const { scope } = stream;
  if (stream.keepsOwnBatch || scope.readersOf(stream) !== 1) return undefined;
  for (const candidate of scope.streams.values()) {
    if (candidate.dependencies[0] === stream) return pairColumnsFromRows(candidate);
  }
  return undefined;
}

/**
 * From how many rows the map side of `shuffle` takes pairs with string keys as UTF-8 columns,
 * when it is a named reduction (`reduceByKey("sum")`, ...); else `undefined`.
 *
 * @example
 * pairColumnsFromRows(pairs.reduceByKey("sum")); // 2048 with the native kernels
 */
export function pairColumnsFromRows(shuffle: DStream<unknown>): number | undefined {
  const { scope } = shuffle;
  if (!(shuffle instanceof scope.operators.NamedReducedDStream)) return undefined;
  const from = utf8ColumnsFromRows(scope.kernels);
  return Number.isFinite(from) ? from : undefined;
}

/**
 * A task's chain of per-partition operators over one partition, as executors run it:
 * consecutive per-record operators as one fused loop, any other operator (`mapPartitions`,
 * `glom`) over the whole partition. An error is marked with the id of the operator that threw
 * it (`sluiceStreamId`). With `pairColumnsFrom` (the chain feeds a named reduction's map side),
 * the pairs of a last fused loop go straight into columns (`FusedPairColumns`).
 *
 * @example
 * applyChain([flatMapped, mapped], lines, 0, undefined); // the pairs of partition 0
 */
export function applyChain(
  operators: ReadonlyArray<DStream<unknown> & PartitionOperator<unknown, unknown>>,
  records: ReadonlyArray<unknown>,
  partitionIndex: number,
  pairColumnsFrom: number | undefined,
): ReadonlyArray<unknown> | ColumnarPartition {
  let current = records;
  let at = 0;
  while (at < operators.length) {
    const operator = operators[at] as DStream<unknown> & PartitionOperator<unknown, unknown>;
    if (!isRecordStep(operator)) {
      const input = current;
      try {
        current = operator.applyToPartition(input, partitionIndex);
      } catch (error) {
        tagStreamId(error, operator.id);
        throw error;
      }
      at++;
      continue;
    }
    const steps: Step[] = [];
    while (at < operators.length && isRecordStep(operators[at] as DStream<unknown>)) {
      steps.push(operators[at] as Step);
      at++;
    }
    if (at === operators.length && pairColumnsFrom !== undefined) {
      const columns = new FusedPairColumns(pairColumnsFrom);
      const push = fuseSteps(steps, columns.startPartition(), true);
      for (let i = 0; i < current.length; i++) push(current[i]);
      return columns.finishPartitions()[0] as ReadonlyArray<unknown> | ColumnarPartition;
    }
    current = applySteps(current, steps, true);
  }
  return current;
}
