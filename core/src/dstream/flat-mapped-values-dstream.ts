import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { computeFused } from "./fused-chain.js";
import type { RecordSink, RecordStep } from "./record-step.js";

/**
 * `flatMapValues`: a pair per value a function returns (Spark's `FlatMapValuedDStream`). A step
 * of a fused loop (`RecordStep`).
 *
 * @example
 * pairs.flatMapValues((text) => text.split(" ")); // a FlatMappedValuesDStream
 */
export class FlatMappedValuesDStream<K, V, U>
  extends DStream<[K, U]>
  implements RecordStep<readonly [K, V], [K, U]>
{
  keepsOwnBatch = false;

  constructor(
    readonly parent: DStream<readonly [K, V]>,
    private readonly fn: (value: V) => Iterable<U>,
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
      for (const produced of fn(value)) next([key, produced]);
    };
  }

  applyToPartition(records: ReadonlyArray<readonly [K, V]>): [K, U][] {
    const out: [K, U][] = [];
    for (const [key, value] of records)
      for (const produced of this.fn(value)) out.push([key, produced]);
    return out;
  }
}
