import type { DStream } from "./dstream.js";
import type { RecordSink } from "./record-step.js";
import { RecordStepDStream } from "./record-step-dstream.js";

/**
 * `flatMap`: every record to any number of records (Spark's `FlatMappedDStream`). A step of a
 * fused loop (`RecordStep`): what the function returns goes on record by record, never into an
 * array of the whole partition.
 *
 * @example
 * lines.flatMap((line) => line.split(" ")); // a FlatMappedDStream
 */
export class FlatMappedDStream<T, U> extends RecordStepDStream<T, U> {
  constructor(
    parent: DStream<T>,
    private readonly fn: (record: T) => Iterable<U>,
  ) {
    super(parent);
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
}
