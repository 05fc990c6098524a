import type { CollectionPartition, ParallelCollection } from "../dstream/parallel-collection.js";
import type { ExecutorPool } from "./executor-pool.js";
import { shippedStrings } from "./shipped-strings.js";

/** Where a task reads a kept partition: the block and the executor thread holding it. */
export interface KeptBlock {
  readonly blockId: string;
  readonly threadId: number;
}

/**
 * The driver's record of which executor keeps which partition of the persisted collections
 * (Spark's block manager master for cached RDD blocks). Partitions go to the executors alive in
 * turn, round the pool, so that both a collection's partitions and collections of one partition
 * each spread over all of them; a partition whose executor died is placed again on the
 * executors alive when a task next reads it.
 *
 * @example
 * const blocks = new ExecutorBlocks(pool, jobKey);
 * blocks.keep(collection);
 * blocks.holderOf({ collection, partition: 0 }); // { blockId: "3:0", threadId: 7 }
 */
export class ExecutorBlocks {
  /** Block id → the executor thread holding it. */
  readonly #holders = new Map<string, number>();
  /** Partitions placed so far: the next goes to the executor after the last one's. */
  #placed = 0;

  constructor(
    private readonly pool: ExecutorPool,
    private readonly jobKey: number,
  ) {}

  /**
   * Places every partition of `collection` on an executor.
   *
   * @example
   * blocks.keep(ctx.parallelize(lines).persist());
   */
  keep(collection: ParallelCollection<unknown>): void {
    for (let partition = 0; partition < collection.partitions.length; partition++) {
      this.place({ collection, partition });
    }
  }

  /**
   * Drops the partitions of `collection` from the executors keeping them.
   *
   * @example
   * blocks.release(collection);
   */
  release(collection: ParallelCollection<unknown>): void {
    for (let partition = 0; partition < collection.partitions.length; partition++) {
      const blockId = blockIdOf({ collection, partition });
      const threadId = this.#holders.get(blockId);
      if (threadId === undefined) continue;
      this.#holders.delete(blockId);
      this.pool.dropBlock(threadId, this.jobKey, blockId);
    }
  }

  /**
   * The executor keeping a persisted collection's partition, placing it again when its executor
   * is gone; `undefined` when the collection is not persisted or no executor can take it now.
   *
   * @example
   * blocks.holderOf({ collection, partition: 1 });
   */
  holderOf(origin: CollectionPartition): KeptBlock | undefined {
    if (!origin.collection.isPersisted) return undefined;
    const blockId = blockIdOf(origin);
    const threadId = this.#holders.get(blockId);
    if (threadId !== undefined && this.pool.threadIds().includes(threadId)) {
      return { blockId, threadId };
    }
    return this.place(origin);
  }

  private place(origin: CollectionPartition): KeptBlock | undefined {
    const blockId = blockIdOf(origin);
    this.#holders.delete(blockId);
    const threads = this.pool.threadIds();
    const threadId = threads[this.#placed % threads.length];
    if (threadId === undefined) return undefined;
    const records = origin.collection.partitions[origin.partition] ?? [];
    const strings = shippedStrings(records);
    const input =
      strings === undefined
        ? { kind: "records" as const, records }
        : { kind: "strings" as const, strings };
    // Records that cannot cross threads stay on the driver: a task shipping them fails with the
    // error that says so.
    if (!this.pool.putBlock(threadId, { type: "put-block", jobKey: this.jobKey, blockId, input })) {
      return undefined;
    }
    this.#holders.set(blockId, threadId);
    this.#placed += 1;
    return { blockId, threadId };
  }
}

function blockIdOf(origin: CollectionPartition): string {
  return `${origin.collection.id}:${origin.partition}`;
}
