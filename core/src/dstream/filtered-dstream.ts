import type { DStream } from "./dstream.js";
import type { RecordSink } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `filter`: the records a predicate accepts (Spark's `FilteredDStream`). A step of a fused loop
 * (`RecordStep`).
 *
 * @example
 * numbers.filter((n) => n > 0); // a FilteredDStream
 */
export class FilteredDStream<T> extends RecordStepDStream<T, T> {
  constructor(
    parent: DStream<T>,
    private readonly predicate: (record: T) => boolean,
  ) {
    super(parent);
  }

  recordStep(next: RecordSink<T>): RecordSink<T> {
    const predicate = this.predicate;
    return (record) => {
      if (predicate(record)) next(record);
    };
  }
}
