import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * What every per-record operator (`map`, `flatMap`, `filter`, `mapValues`, `flatMapValues`,
 * `countByValue`'s pairing) shares: one parent, its slide, a batch computed as a fused loop
 * through the per-record operators above it (`computeFused`), `cache()`/`persist()` keeping a
 * batch of its own, and one partition at a time through `recordStep`. A subclass says only
 * what it makes of one record.
 *
 * @example
 * class Doubled extends RecordStepDStream<number, number> {
 *   recordStep(next: RecordSink<number>): RecordSink<number> { return (n) => next(n * 2); }
 * }
 */
export abstract class RecordStepDStream<T, U>
  extends OneParentDStream<T, U>
  implements RecordStep<T, U>
{
  keepsOwnBatch = false;

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

  abstract recordStep(next: RecordSink<U>): RecordSink<T>;

  /** The records of one partition through this operator alone. */
  applyToPartition(records: ReadonlyArray<T>): U[] {
    const out: U[] = [];
    const push = this.recordStep((record) => {
      out.push(record);
    });
    for (let i = 0; i < records.length; i++) push(records[i] as T);
    return out;
  }
}
