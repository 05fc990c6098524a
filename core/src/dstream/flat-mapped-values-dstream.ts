import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * `flatMapValues`: a pair per value a function returns (Spark's `FlatMapValuedDStream`).
 *
 * @example
 * pairs.flatMapValues((text) => text.split(" ")); // a FlatMappedValuesDStream
 */
export class FlatMappedValuesDStream<K, V, U> extends DStream<[K, U]> {
  constructor(
    readonly parent: DStream<readonly [K, V]>,
    private readonly fn: (value: V) => Iterable<U>,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<[K, U]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<readonly [K, V]>): [K, U][] {
    const out: [K, U][] = [];
    for (const [key, value] of records)
      for (const produced of this.fn(value)) out.push([key, produced]);
    return out;
  }
}
