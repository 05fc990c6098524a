import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * `flatMap`: every record to any number of records (Spark's `FlatMappedDStream`). A step of a
 * fused loop (`RecordStep`): what the function returns goes on record by record, never into an
 * array of the whole partition.
 *
 * @example
 * lines.flatMap((line) => line.split(" ")); // a FlatMappedDStream
 */
export class FlatMappedDStream<T, U> extends DStream<U> implements RecordStep<T, U> {
  keepsOwnBatch = false;

  constructor(
    readonly parent: DStream<T>,
    private readonly fn: (record: T) => Iterable<U>,
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

  protected compute(time: number): Promise<Batch<U> | undefined> {
    return computeFused<U>(this as RecordStep<unknown, unknown> & DStream<unknown>, time);
  }

  recordStep(next: RecordSink<U>): RecordSink<T> {
    const fn = this.fn;
    return (record) => {
      const produced = fn(record);
      if (Array.isArray(produced)) {
        // An array (what `split` gives) by index: no iterator per record.
        for (let i = 0; i < produced.length; i++) next(produced[i] as U);
      } else {
        for (const one of produced) next(one);
      }
    };
  }

  applyToPartition(records: ReadonlyArray<T>): U[] {
    const out: U[] = [];
    for (const record of records) for (const produced of this.fn(record)) out.push(produced);
    return out;
  }
}
