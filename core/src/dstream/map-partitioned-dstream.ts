import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";

/**
 * `mapPartitions`: each partition through a function (Spark's `MapPartitionedDStream`).
 *
 * @example
 * numbers.mapPartitions((records) => [records.length]); // a MapPartitionedDStream
 */
export class MapPartitionedDStream<T, U> extends OneParentDStream<T, U> {
  constructor(
    parent: DStream<T>,
    private readonly fn: (records: ReadonlyArray<T>, partitionIndex: number) => Iterable<U>,
  ) {
    super(parent);
  }

  protected async compute(time: number): Promise<Batch<U> | undefined> {
    const batch = await this.parentBatch(time);
    return (
      batch && { time, partitions: batch.partitions.map((p, i) => this.applyToPartition(p, i)) }
    );
  }

  applyToPartition(records: ReadonlyArray<T>, partitionIndex: number): U[] {
    return [...this.fn(records, partitionIndex)];
  }
}
