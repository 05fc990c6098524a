import type { DStream } from "./dstream.js";
import { SKIPPED_RECORD } from "./record-guard.js";
import type { RecordSink } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `mapValues`: every pair's value through a function (Spark's `MapValuedDStream`). A step of a
 * fused loop (`RecordStep`).
 *
 * @example
 * counts.mapValues((n) => n * 2); // a MappedValuesDStream
 */
export class MappedValuesDStream<K, V, U> extends RecordStepDStream<readonly [K, V], [K, U]> {
  constructor(
    parent: DStream<readonly [K, V]>,
    private readonly fn: (value: V) => U,
  ) {
    super(parent);
  }

  recordStep(next: RecordSink<[K, U]>): RecordSink<readonly [K, V]> {
    const fn = this.fn;
    return ([key, value]) => {
      const mapped = fn(value);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) next([key, mapped]);
    };
  }
}
