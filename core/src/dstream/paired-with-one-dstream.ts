import type { Batch } from "./batch.js";
import { ColumnarBatch, type ColumnarPartition, columnsOf } from "./columnar-batch.js";
import { DStream } from "./dstream.js";

/**
 * `map((record) => [record, 1])` for `countByValue`, declarative so that it keeps columns: a
 * columnar batch of strings (from a byte parser) becomes a columnar batch of `[string, 1]` pairs
 * — the same key column, every value 1 — which `reduceByKey("count")` reduces with the kernels
 * without making a string per record. Any other batch is mapped record by record.
 *
 * @example
 * words.countByValue(); // a PairedWithOneDStream, then reduceByKey("count")
 */
export class PairedWithOneDStream<T> extends DStream<[T, number]> {
  constructor(readonly parent: DStream<T>) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected async compute(time: number): Promise<Batch<[T, number]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    const text = columnsOf(batch, "text");
    if (text !== undefined) {
      const pairs = text.map(({ keys }): ColumnarPartition => ({ kind: "pairs", keys, values: 1 }));
      return new ColumnarBatch<[T, number]>(time, pairs);
    }
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
  }

  applyToPartition(records: ReadonlyArray<T>): [T, number][] {
    const out = new Array<[T, number]>(records.length);
    for (let i = 0; i < records.length; i++) out[i] = [records[i] as T, 1];
    return out;
  }
}
