import type { Batch } from "../dstream/batch.js";
import {
  CollectionBatch,
  type CollectionPartition,
  ParallelCollection,
} from "../dstream/parallel-collection.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { SluiceError } from "../errors/sluice-error.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import { InputDStream } from "./input-dstream.js";

/**
 * A stream fed from an array used as a queue (Spark's `QueueInputDStream`): each batch takes the
 * next element (or, with `oneAtATime: false`, every element queued). Elements may be pushed while
 * the context runs; once the queue is empty, batches are empty (or `defaultBatch`). An element is
 * an array of records, cut into the context's default parallelism, or a `ParallelCollection`
 * (`ctx.parallelize`), taken with its own partitions.
 *
 * @example
 * const queue: number[][] = [[1, 2], [3]];
 * const stream = ctx.queueStream(queue);
 */
export class QueueInputDStream<T> extends InputDStream<T> {
  constructor(
    context: ScopeHolder,
    private readonly queue: QueueElement<T>[],
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
    for (const [index, batch] of queue.entries()) this.assertElement(batch, index);
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
    for (const [index, batch] of taken.entries()) this.assertElement(batch, index);
    const numPartitions = this.scope.defaultParallelism;
    if (taken.length === 0) {
      const fallback = this.defaultBatch;
      return {
        time,
        partitions: fallback === undefined ? [] : sliceIntoPartitions(fallback, numPartitions),
      };
    }
    if (!taken.some((element) => element instanceof ParallelCollection)) {
      return {
        time,
        partitions: (taken as ReadonlyArray<T>[]).flatMap((records) =>
          sliceIntoPartitions(records, numPartitions),
        ),
      };
    }
    const partitions: ReadonlyArray<T>[] = [];
    const origins: (CollectionPartition | undefined)[] = [];
    for (const element of taken) {
      if (element instanceof ParallelCollection) {
        const collection = element as ParallelCollection<unknown>;
        for (const [partition, records] of element.partitions.entries()) {
          partitions.push(records);
          origins.push({ collection, partition });
        }
      } else {
        for (const records of sliceIntoPartitions(element as ReadonlyArray<T>, numPartitions)) {
          partitions.push(records);
          origins.push(undefined);
        }
      }
    }
    return new CollectionBatch(time, partitions, origins);
  }

  // A flat array of records (`queueStream(["a", "b"])`) would make each string a batch of letters.
  private assertElement(element: unknown, index: number): void {
    if (Array.isArray(element)) return;
    if (element instanceof ParallelCollection) {
      if (element.owner === this.scope) return;
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `queueStream: element ${index} of the queue is a collection another context made with parallelize; make it with this context's parallelize`,
      );
    }
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `queueStream: each element of the queue is one batch, an array of records or a collection from ctx.parallelize; element ${index} is ${describeValue(element)}. Wrap the records in an array: queueStream([records]) for one batch, or records.map((record) => [record]) for one record per batch`,
    );
  }
}

/** One batch's worth of a queue: records, or a collection with its own partitions. */
export type QueueElement<T> = ReadonlyArray<T> | ParallelCollection<T>;

function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null || typeof value !== "object") return String(value);
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
