import type { Batch } from "../dstream/batch.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { InputDStream } from "../input/input-dstream.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";

/**
 * The test driver's input (Spark's `TestInputStream`): batch i (from 0) is `batches[i]` cut into
 * `numPartitions`; `null` means no batch at all for that time (Spark's `None`); after the last
 * element, batches are empty.
 *
 * @example
 * new TestInputDStream(ctx, [[1, 2], null, []], 2);
 */
export class TestInputDStream<T> extends InputDStream<T> {
  constructor(
    context: ScopeHolder,
    private readonly batches: ReadonlyArray<ReadonlyArray<T> | null>,
    private readonly numPartitions: number,
  ) {
    super(context);
  }

  protected async computeInput(time: number): Promise<Batch<T> | undefined> {
    const zero = this.zeroTime ?? 0;
    const index = (time - zero) / this.scope.batchInterval - 1;
    const records = index < this.batches.length ? this.batches[index] : [];
    if (records === null || records === undefined) return undefined;
    return { time, partitions: sliceIntoPartitions(records, this.numPartitions) };
  }
}
