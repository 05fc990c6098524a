import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";

/**
 * A whole batch through a function giving the new partitions; no batch stays no batch. Backs
 * `count`, `reduce`, `repartition` and `countByWindow` (which Spark builds from `transform` and
 * shuffles).
 *
 * @example
 * numbers.count(); // a BatchMappedDStream
 */
export class BatchMappedDStream<T, U> extends OneParentDStream<T, U> {
  constructor(
    parent: DStream<T>,
    private readonly fn: (batch: Batch<T>) => ReadonlyArray<ReadonlyArray<U>>,
    private readonly operation: string,
  ) {
    super(parent);
  }

  override get operatorName(): string {
    return `BatchMappedDStream(${this.operation})`;
  }

  protected async compute(time: number): Promise<Batch<U> | undefined> {
    const batch = await this.parentBatch(time);
    return batch && { time, partitions: this.fn(batch) };
  }
}
