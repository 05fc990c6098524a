import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { SKIPPED_RECORD } from "./record-guard.js";

/**
 * `map`: every record through a function (Spark's `MappedDStream`).
 *
 * @example
 * words.map((word) => [word, 1]); // a MappedDStream
 */
export class MappedDStream<T, U> extends DStream<U> {
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

  protected async compute(time: number): Promise<Batch<U> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
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
