import type { Batch } from "./batch.js";
import { ColumnarBatch, type ColumnarPartition, columnsOf } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import { computeFused, fusedChain } from "./fused-chain.js";
import type { RecordSink, RecordStep } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `map((record) => [record, 1])` for `countByValue`, declarative so that it keeps columns: a
 * columnar batch of strings (from a byte parser) becomes a columnar batch of `[string, 1]` pairs
 * — the same key column, every value 1 — which `reduceByKey("count")` reduces with the kernels
 * without making a string per record. Any other batch is mapped record by record, as a step of
 * a fused loop (`RecordStep`).
 *
 * @example
 * words.countByValue(); // a PairedWithOneDStream, then reduceByKey("count")
 */
export class PairedWithOneDStream<T> extends RecordStepDStream<T, [T, number]> {
  protected override async compute(time: number): Promise<Batch<[T, number]> | undefined> {
    const self = this as RecordStep<unknown, unknown> & DStream<unknown>;
    // Straight after a byte parser (nothing to fuse with), its columns stay columns.
    if (fusedChain(self).steps.length === 1) {
      const batch = await this.parent.getOrCompute(time);
      if (batch === undefined) return undefined;
      const text = columnsOf(batch, "text");
      if (text !== undefined) {
        const pairs = text.map(
          ({ keys }): ColumnarPartition => ({ kind: "pairs", keys, values: 1 }),
        );
        return new ColumnarBatch<[T, number]>(time, pairs);
      }
    }
    return computeFused<[T, number]>(self, time);
  }

  recordStep(next: RecordSink<[T, number]>): RecordSink<T> {
    return (record) => next([record, 1]);
  }
}
