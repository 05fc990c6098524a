import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { checkCombinable, requireParentBatches } from "./parents.js";

/**
 * `union`: the batches of several streams, partitions one after the other (Spark's `UnionDStream`).
 *
 * @example
 * a.union(b); // a UnionDStream
 */
export class UnionDStream<T> extends DStream<T> {
  constructor(private readonly parents: ReadonlyArray<DStream<T>>) {
    checkCombinable(parents, "union");
    super((parents[0] as DStream<T>).scope);
  }

  get slideDuration(): number {
    return (this.parents[0] as DStream<T>).slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return this.parents;
  }

  protected async compute(time: number): Promise<Batch<T> | undefined> {
    const batches = (await requireParentBatches(this.parents, time, "union")) as Batch<T>[];
    return { time, partitions: batches.flatMap((batch) => batch.partitions) };
  }
}
