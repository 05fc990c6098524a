import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * `mapPartitions`: each partition through a function (Spark's `MapPartitionedDStream`).
 *
 * @example
 * numbers.mapPartitions((records) => [records.length]); // a MapPartitionedDStream
 */
export class MapPartitionedDStream<T, U> extends DStream<U> {
  constructor(
    readonly parent: DStream<T>,
    private readonly fn: (records: ReadonlyArray<T>, partitionIndex: number) => Iterable<U>,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<U> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p, i) => this.applyToPartition(p, i)) };
  }

  applyToPartition(records: ReadonlyArray<T>, partitionIndex: number): U[] {
    return [...this.fn(records, partitionIndex)];
  }
}
