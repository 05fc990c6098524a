import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import { SKIPPED_RECORD } from "./record-guard.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * `mapValues`: every pair's value through a function (Spark's `MapValuedDStream`). A step of a
 * fused loop (`RecordStep`).
 *
 * @example
 * counts.mapValues((n) => n * 2); // a MappedValuesDStream
 */
export class MappedValuesDStream<K, V, U>
  extends DStream<[K, U]>
  implements RecordStep<readonly [K, V], [K, U]>
{
  keepsOwnBatch = false;

  constructor(
    readonly parent: DStream<readonly [K, V]>,
    private readonly fn: (value: V) => U,
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

  protected compute(time: number): Promise<Batch<[K, U]> | undefined> {
    return computeFused<[K, U]>(this as RecordStep<unknown, unknown> & DStream<unknown>, time);
  }

  recordStep(next: RecordSink<[K, U]>): RecordSink<readonly [K, V]> {
    const fn = this.fn;
    return ([key, value]) => {
      const mapped = fn(value);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) next([key, mapped]);
    };
  }

  applyToPartition(records: ReadonlyArray<readonly [K, V]>): [K, U][] {
    const fn = this.fn;
    const out: [K, U][] = [];
    for (const [key, value] of records) {
      const mapped = fn(value);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) out.push([key, mapped]);
    }
    return out;
  }
}
