import type { DStream } from "./dstream.js";

/**
 * An operator that works partition by partition (Spark's narrow dependency: `map`, `filter`,
 * `flatMap`, `mapPartitions`, `mapValues`, `flatMapValues`, `glom`). Its work on one partition
 * needs nothing but that partition of its parent, so executors run chains of them as one task.
 *
 * @example
 * if (isPartitionOperator(stream)) stream.applyToPartition([1, 2], 0);
 */
export interface PartitionOperator<T, U> {
  /** The stream this one is computed from. */
  readonly parent: DStream<T>;
  /** The records of partition `partitionIndex` of this stream, from that partition of the parent. */
  applyToPartition(records: ReadonlyArray<T>, partitionIndex: number): U[];
}

/**
 * True when `stream` computes partition by partition.
 *
 * @example
 * isPartitionOperator(words.map((w) => [w, 1])); // true
 */
export function isPartitionOperator(
  stream: DStream<unknown>,
): stream is DStream<unknown> & PartitionOperator<unknown, unknown> {
  return (
    typeof (stream as Partial<PartitionOperator<unknown, unknown>>).applyToPartition === "function"
  );
}
