import type { DStream } from "./dstream.js";
import type { RecordSink } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `flatMapValues`: a pair per value a function returns (Spark's `FlatMapValuedDStream`). A step
 * of a fused loop (`RecordStep`).
 *
 * @example
 * pairs.flatMapValues((text) => text.split(" ")); // a FlatMappedValuesDStream
 */
export class FlatMappedValuesDStream<K, V, U> extends RecordStepDStream<readonly [K, V], [K, U]> {
  constructor(
    parent: DStream<readonly [K, V]>,
    private readonly fn: (value: V) => Iterable<U>,
  ) {
    super(parent);
  }

  recordStep(next: RecordSink<[K, U]>): RecordSink<readonly [K, V]> {
    const fn = this.fn;
    return ([key, value]) => {
      for (const produced of fn(value)) next([key, produced]);
    };
  }
}
