import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { type Aggregator, combineByKey } from "./shuffle.js";

/**
 * `combineByKey` and what is built on it (`reduceByKey`, `groupByKey`): Spark's `ShuffledDStream`.
 *
 * @example
 * pairs.reduceByKey((a, b) => a + b); // a ShuffledDStream
 */
export class ShuffledDStream<K, V, C> extends DStream<[K, C]> {
  constructor(
    readonly parent: DStream<readonly [K, V]>,
    readonly aggregator: Aggregator<V, C>,
    readonly numPartitions: number,
    readonly mapSideCombine: boolean,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<[K, C]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return {
      time,
      partitions: combineByKey(batch, this.aggregator, this.numPartitions, this.mapSideCombine),
    };
  }
}
