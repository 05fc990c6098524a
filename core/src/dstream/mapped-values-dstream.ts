import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { SKIPPED_RECORD } from "./record-guard.js";

/**
 * `mapValues`: every pair's value through a function (Spark's `MapValuedDStream`).
 *
 * @example
 * counts.mapValues((n) => n * 2); // a MappedValuesDStream
 */
export class MappedValuesDStream<K, V, U> extends DStream<[K, U]> {
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

  protected async compute(time: number): Promise<Batch<[K, U]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return { time, partitions: batch.partitions.map((p) => this.applyToPartition(p)) };
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
