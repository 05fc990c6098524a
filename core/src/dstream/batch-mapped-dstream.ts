import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * A whole batch through a function giving the new partitions; no batch stays no batch. Backs
 * `count`, `reduce`, `repartition` and `countByWindow` (which Spark builds from `transform` and
 * shuffles).
 *
 * @example
 * numbers.count(); // a BatchMappedDStream
 */
export class BatchMappedDStream<T, U> extends DStream<U> {
  constructor(
    private readonly parent: DStream<T>,
    private readonly fn: (batch: Batch<T>) => ReadonlyArray<ReadonlyArray<U>>,
    private readonly operation: string,
  ) {
    super(parent.scope);
  }

  override get operatorName(): string {
    return `BatchMappedDStream(${this.operation})`;
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
    return { time, partitions: this.fn(batch) };
  }
}
