import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * A stream computed batch by batch from one parent, sliding as it does: the base of the
 * operators that make each batch from their parent's batch at the same time (the per-record
 * operators, `mapPartitions`, `glom`, the parsers, the column-mapped operators, the whole-batch
 * functions behind `count` and `reduce`). `parentBatch` reads that batch.
 *
 * @example
 * class Sizes<T> extends OneParentDStream<T, number> {
 *   protected async compute(time: number) {
 *     const batch = await this.parentBatch(time);
 *     return batch && { time, partitions: batch.partitions.map((p) => [p.length]) };
 *   }
 * }
 */
export abstract class OneParentDStream<T, U> extends DStream<U> {
  constructor(readonly parent: DStream<T>) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  /** The parent's batch at `time`, or `undefined` when it has none (then neither has this one). */
  protected parentBatch(time: number): Promise<Batch<T> | undefined> {
    return this.parent.getOrCompute(time);
  }
}
