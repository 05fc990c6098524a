import { type Batch, batchSize } from "./batch.js";
import type { DStream } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";

/**
 * An output operation (Spark's `ForEachDStream`): registered with the context at creation, it
 * runs its function on the parent's batch at every slide.
 *
 * @example
 * counts.foreachBatch((batch) => save(batch)); // registers a ForEachDStream
 */
export class ForEachDStream<T> extends OneParentDStream<T, never> {
  /** The output operation's id (order of registration). */
  readonly outputId: number;
  // Kept as a closure over `T` so an output of any type is a `ForEachDStream<unknown>`.
  private readonly runAt: (time: number) => Promise<number>;

  constructor(
    parent: DStream<T>,
    fn: (batch: Batch<T>, time: number) => void | Promise<void>,
    /** The operation's name for listeners, such as `"foreachBatch"`. */
    readonly operation: string,
  ) {
    super(parent);
    this.runAt = async (time) => {
      const batch = await parent.getOrCompute(time);
      if (batch === undefined) return 0;
      await fn(batch, time);
      return batchSize(batch);
    };
    this.outputId = parent.scope.graph.addOutput(this);
  }

  protected async compute(): Promise<undefined> {
    return undefined;
  }

  /**
   * Runs the output for `time`: computes the parent's batch and hands it to the function; does
   * nothing when the parent has no batch. Resolves to the number of records it output.
   *
   * @example
   * await output.run(3000);
   */
  run(time: number): Promise<number> {
    return this.runAt(time);
  }
}
