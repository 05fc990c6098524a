import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * `filter`: the records a predicate accepts (Spark's `FilteredDStream`). A step of a fused loop
 * (`RecordStep`).
 *
 * @example
 * numbers.filter((n) => n > 0); // a FilteredDStream
 */
export class FilteredDStream<T> extends DStream<T> implements RecordStep<T, T> {
  keepsOwnBatch = false;

  constructor(
    readonly parent: DStream<T>,
    private readonly predicate: (record: T) => boolean,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  override cache(): this {
    this.keepsOwnBatch = true;
    return super.cache();
  }

  override persist(): this {
    this.keepsOwnBatch = true;
    return super.persist();
  }

  protected compute(time: number): Promise<Batch<T> | undefined> {
    return computeFused<T>(this as RecordStep<unknown, unknown> & DStream<unknown>, time);
  }

  recordStep(next: RecordSink<T>): RecordSink<T> {
    const predicate = this.predicate;
    return (record) => {
      if (predicate(record)) next(record);
    };
  }

  applyToPartition(records: ReadonlyArray<T>): T[] {
    const predicate = this.predicate;
    return records.filter((r) => predicate(r));
  }
}
