import type { Batch } from "../dstream/batch.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { SluiceError } from "../errors/sluice-error.js";
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
    if (!Array.isArray(queue)) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `queueStream: the queue must be an array of batches, each an array of records (such as [[1, 2], [3]]); got ${describeValue(queue)}`,
      );
    }
    for (const [index, batch] of queue.entries()) assertBatch(batch, index);
    if (defaultBatch !== undefined && !Array.isArray(defaultBatch)) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `queueStream: defaultBatch must be an array of records; got ${describeValue(defaultBatch)}`,
      );
    }
  }

  protected async computeInput(time: number): Promise<Batch<T>> {
    const taken = this.oneAtATime ? this.queue.splice(0, 1) : this.queue.splice(0);
    // Batches pushed while the context runs are checked as they are taken.
    for (const [index, batch] of taken.entries()) assertBatch(batch, index);
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

// A flat array of records (`queueStream(["a", "b"])`) would make each string a batch of letters.
function assertBatch(batch: unknown, index: number): void {
  if (Array.isArray(batch)) return;
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `queueStream: each element of the queue is one batch, an array of records; element ${index} is ${describeValue(batch)}. Wrap the records in an array: queueStream([records]) for one batch, or records.map((record) => [record]) for one record per batch`,
  );
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null || typeof value !== "object") return String(value);
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
