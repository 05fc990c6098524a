import { SluiceError } from "../errors/sluice-error.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import type { Batch } from "./batch.js";
import { DStream, type TransformResult } from "./dstream.js";
import { checkCombinable, requireParentBatches } from "./parents.js";

/**
 * `transform` and `transformWith`: the parents' batches through a function (Spark's `TransformedDStream`).
 *
 * @example
 * numbers.transform((batch) => batchRecords(batch).sort()); // a TransformedDStream
 */
export class TransformedDStream<U> extends DStream<U> {
  constructor(
    private readonly parents: ReadonlyArray<DStream<unknown>>,
    private readonly fn: (
      batches: ReadonlyArray<Batch<unknown>>,
      time: number,
    ) => TransformResult<U> | Promise<TransformResult<U>>,
    private readonly operation: string,
  ) {
    checkCombinable(parents, operation);
    super((parents[0] as DStream<unknown>).scope);
  }

  get slideDuration(): number {
    return (this.parents[0] as DStream<unknown>).slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return this.parents;
  }

  protected async compute(time: number): Promise<Batch<U>> {
    const batches = await requireParentBatches(this.parents, time, this.operation);
    const result: unknown = await this.fn(batches, time);
    if (Array.isArray(result)) {
      const partitions = this.scope.defaultParallelism;
      return { time, partitions: sliceIntoPartitions(result as U[], partitions) };
    }
    if (typeof result === "object" && result !== null && "partitions" in result) {
      const { partitions } = result as { partitions: ReadonlyArray<ReadonlyArray<U>> };
      if (Array.isArray(partitions)) return { time, partitions };
    }
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${this.operation} at ${time} ms: the function must return an array of records or { partitions }, got ${result === null ? "null" : typeof result}`,
    );
  }
}
