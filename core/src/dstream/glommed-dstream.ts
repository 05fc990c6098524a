import type { Batch } from "./batch.js";
import { OneParentDStream } from "./one-parent-dstream.js";

/**
 * `glom`: each partition becomes one record, an array (Spark's `GlommedDStream`).
 *
 * @example
 * numbers.glom(); // a GlommedDStream
 */
export class GlommedDStream<T> extends OneParentDStream<T, T[]> {
  protected async compute(time: number): Promise<Batch<T[]> | undefined> {
    const batch = await this.parentBatch(time);
    return batch && { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<T>): T[][] {
    return [[...records]];
  }
}
