import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import { SKIPPED_RECORD } from "./record-guard.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * `map`: every record through a function (Spark's `MappedDStream`). A step of a fused loop
 * (`RecordStep`): consecutive per-record operators run as one loop per partition.
 *
 * @example
 * words.map((word) => [word, 1]); // a MappedDStream
 */
export class MappedDStream<T, U> extends DStream<U> implements RecordStep<T, U> {
  keepsOwnBatch = false;

  constructor(
    readonly parent: DStream<T>,
    private readonly fn: (record: T) => U,
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
      const mapped = fn(record);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) next(mapped);
    };
  }

  applyToPartition(records: ReadonlyArray<T>): U[] {
    const fn = this.fn;
    const out: U[] = [];
    for (const record of records) {
      const mapped = fn(record);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) out.push(mapped);
    }
    return out;
  }
}
