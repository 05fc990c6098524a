import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * `flatMap`: every record to any number of records (Spark's `FlatMappedDStream`).
 *
 * @example
 * lines.flatMap((line) => line.split(" ")); // a FlatMappedDStream
 */
export class FlatMappedDStream<T, U> extends DStream<U> {
  constructor(
    readonly parent: DStream<T>,
    private readonly fn: (record: T) => Iterable<U>,
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
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<T>): U[] {
    const out: U[] = [];
    for (const record of records) for (const produced of this.fn(record)) out.push(produced);
    return out;
  }
}
