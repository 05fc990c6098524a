import type { DStream } from "./dstream.js";
import { SKIPPED_RECORD } from "./record-guard.js";
import type { RecordSink } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `map`: every record through a function (Spark's `MappedDStream`). A step of a fused loop
 * (`RecordStep`): consecutive per-record operators run as one loop per partition.
 *
 * @example
 * words.map((word) => [word, 1]); // a MappedDStream
 */
export class MappedDStream<T, U> extends RecordStepDStream<T, U> {
  constructor(
    parent: DStream<T>,
    private readonly fn: (record: T) => U,
  ) {
    super(parent);
  }

  recordStep(next: RecordSink<U>): RecordSink<T> {
    const fn = this.fn;
    return (record) => {
      const mapped = fn(record);
      // A record sent to the dead-letter sink is left out.
      if ((mapped as unknown) !== SKIPPED_RECORD) next(mapped);
    };
  }
}
