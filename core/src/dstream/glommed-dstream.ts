import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";

/**
 * `glom`: each partition becomes one record, an array (Spark's `GlommedDStream`).
 *
 * @example
 * numbers.glom(); // a GlommedDStream
 */
export class GlommedDStream<T> extends DStream<T[]> {
  constructor(private readonly parent: DStream<T>) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<T[]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<T>): T[][] {
    return [[...records]];
  }
}
