import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { type NamedReduction, reduceBatchNamed } from "./named-reductions.js";

/**
 * `reduceByKey("sum" | "count" | "min" | "max")`: a declarative reduction per key, through the
 * kernels (`reduceBatchNamed`); on executors, its shuffle crosses as columns (`partition-work`).
 *
 * @example
 * pairs.reduceByKey("sum"); // a NamedReducedDStream
 */
export class NamedReducedDStream<K> extends DStream<[K, number]> {
  constructor(
    readonly parent: DStream<readonly [K, unknown]>,
    readonly op: NamedReduction,
    readonly numPartitions: number,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<[K, number]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return reduceBatchNamed(batch, this.op, this.numPartitions, this.scope.kernels);
  }
}
