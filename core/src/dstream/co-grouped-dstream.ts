import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { checkCombinable, requireParentBatches } from "./parents.js";
import { cogroup } from "./shuffle.js";

/**
 * `cogroup` (and the joins built on it): per key, the values of both streams' batches. Spark
 * builds this from `transformWith`, so both streams must have a batch at every time.
 *
 * @example
 * orders.cogroup(payments); // a CoGroupedDStream
 */
export class CoGroupedDStream<K, V, W> extends DStream<[K, [V[], W[]]]> {
  constructor(
    readonly left: DStream<readonly [K, V]>,
    readonly right: DStream<readonly [K, W]>,
    readonly numPartitions: number,
  ) {
    checkCombinable([left, right], "cogroup");
    super(left.scope);
  }

  get slideDuration(): number {
    return this.left.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.left, this.right];
  }

  protected async compute(time: number): Promise<Batch<[K, [V[], W[]]]>> {
    const sources = await requireParentBatches([this.left, this.right], time, "cogroup");
    const grouped = cogroup(sources as Batch<readonly [K, unknown]>[], this.numPartitions);
    return { time, partitions: grouped as unknown as [K, [V[], W[]]][][] };
  }
}
