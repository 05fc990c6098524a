import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * `filter`: the records a predicate accepts (Spark's `FilteredDStream`).
 *
 * @example
 * numbers.filter((n) => n > 0); // a FilteredDStream
 */
export class FilteredDStream<T> extends DStream<T> {
  constructor(
    readonly parent: DStream<T>,
    private readonly predicate: (record: T) => boolean,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<T> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<T>): T[] {
    const predicate = this.predicate;
    return records.filter((r) => predicate(r));
  }
}
