import type { Batch } from "../dstream/batch.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import { InputDStream } from "./input-dstream.js";

/**
 * A stream fed from an array used as a queue (Spark's `QueueInputDStream`): each batch takes the
 * next element (or, with `oneAtATime: false`, every element queued). Elements may be pushed while
 * the context runs; once the queue is empty, batches are empty (or `defaultBatch`).
 *
 * @example
 * const queue: number[][] = [[1, 2], [3]];
 * const stream = ctx.queueStream(queue);
 */
export class QueueInputDStream<T> extends InputDStream<T> {
  constructor(
    context: ScopeHolder,
    private readonly queue: ReadonlyArray<T>[],
    private readonly oneAtATime: boolean,
    private readonly defaultBatch: ReadonlyArray<T> | undefined,
  ) {
    super(context);
  }

  protected async computeInput(time: number): Promise<Batch<T>> {
    const taken = this.oneAtATime ? this.queue.splice(0, 1) : this.queue.splice(0);
    const numPartitions = this.scope.defaultParallelism;
    if (taken.length === 0) {
      const fallback = this.defaultBatch;
      return {
        time,
        partitions: fallback === undefined ? [] : sliceIntoPartitions(fallback, numPartitions),
      };
    }
    return {
      time,
      partitions: taken.flatMap((records) => sliceIntoPartitions(records, numPartitions)),
    };
  }
}
