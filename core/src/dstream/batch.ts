import { ColumnarBatch } from "./columnar-batch.js";

/**
 * One batch of a `DStream`: Spark's RDD for one batch time. Records are split into partitions;
 * operations run partition by partition, and the batch's records in order are the partitions
 * one after the other.
 *
 * @example
 * const batch: Batch<number> = { time: 1000, partitions: [[1, 2], [3]] };
 */
export interface Batch<T> {
  /** The batch time in milliseconds on the context's clock. */
  readonly time: number;
  /** The records, partition by partition. */
  readonly partitions: ReadonlyArray<ReadonlyArray<T>>;
}

/**
 * Every record of a batch in order (the partitions one after the other): Spark's `rdd.collect()`.
 *
 * @example
 * batchRecords({ time: 1000, partitions: [[1, 2], [3]] }); // [1, 2, 3]
 */
export function batchRecords<T>(batch: Batch<T>): T[] {
  const records: T[] = [];
  for (const partition of batch.partitions) {
    for (const record of partition) records.push(record);
  }
  return records;
}

/**
 * The number of records in a batch.
 *
 * @example
 * batchSize({ time: 1000, partitions: [[1, 2], [3]] }); // 3
 */
export function batchSize(batch: Batch<unknown>): number {
  // A columnar batch knows its size without decoding its records.
  if (batch instanceof ColumnarBatch) return batch.size;
  let size = 0;
  for (const partition of batch.partitions) size += partition.length;
  return size;
}
