import type { Batch } from "./batch.js";

/**
 * What keeps a persisted collection's partitions on the executors: the context that made it
 * (its executors, under `local[N]` with N > 1).
 */
export interface PartitionKeeper {
  /** Keeps `collection`'s partitions on the executors (from when they run). */
  keep(collection: ParallelCollection<unknown>): void;
  /** Drops what `keep` placed. */
  release(collection: ParallelCollection<unknown>): void;
}

/**
 * Records cut into partitions on the driver, to push into a `queueStream` (Spark's
 * `sc.parallelize(records, numSlices)`). Persisted (`persist()`, Spark's `persist(MEMORY_ONLY)`),
 * its partitions are also kept on the executors under `local[N]`, one per executor in turn,
 * so every batch that takes it runs its first tasks where the records already are, as Spark's
 * tasks run where a cached RDD's blocks are, instead of the driver shipping the partition to a
 * task each time. Make one with `ctx.parallelize`.
 *
 * @example
 * const lines = ctx.parallelize(["a b", "b c"], 2).persist();
 * ctx.queueStream([lines, lines]).flatMap((line) => line.split(" ")).countByValue().print();
 */
export class ParallelCollection<T> {
  #persisted = false;

  constructor(
    /** The context's scope that made it: only its queue streams take it. */
    readonly owner: object,
    /** Unique among the collections of its context. */
    readonly id: number,
    /** The records, partition by partition, on the driver. */
    readonly partitions: ReadonlyArray<ReadonlyArray<T>>,
    private readonly keeper: PartitionKeeper,
  ) {}

  /** True between `persist()` and `unpersist()`. */
  get isPersisted(): boolean {
    return this.#persisted;
  }

  /**
   * Keeps the partitions on the executors (placed when they start, or now when they run), until
   * `unpersist()` or the context stops; under `local[1]` there is nothing to place.
   *
   * @example
   * const lines = ctx.parallelize(fileLines).persist();
   */
  persist(): this {
    if (!this.#persisted) {
      this.#persisted = true;
      this.keeper.keep(this as ParallelCollection<unknown>);
    }
    return this;
  }

  /**
   * `persist()` (Spark's `cache()`: memory only is the one level there is).
   *
   * @example
   * const lines = ctx.parallelize(fileLines).cache();
   */
  cache(): this {
    return this.persist();
  }

  /**
   * Drops the partitions the executors keep; batches that take the collection later ship its
   * partitions from the driver.
   *
   * @example
   * lines.unpersist();
   */
  unpersist(): this {
    if (this.#persisted) {
      this.#persisted = false;
      this.keeper.release(this as ParallelCollection<unknown>);
    }
    return this;
  }

  /**
   * The number of records.
   *
   * @example
   * ctx.parallelize([1, 2, 3]).count(); // 3
   */
  count(): number {
    let count = 0;
    for (const partition of this.partitions) count += partition.length;
    return count;
  }
}

/** A partition of a collection: where a task reads it when an executor keeps it. */
export interface CollectionPartition {
  readonly collection: ParallelCollection<unknown>;
  readonly partition: number;
}

/**
 * A batch whose partitions (some or all) are partitions of collections: the same records as any
 * batch, plus where each came from, so tasks can read a persisted one on the executor keeping it.
 *
 * @example
 * const batch = new CollectionBatch(1000, collection.partitions, collection.partitions.map((_, partition) => ({ collection, partition })));
 */
export class CollectionBatch<T> implements Batch<T> {
  constructor(
    readonly time: number,
    readonly partitions: ReadonlyArray<ReadonlyArray<T>>,
    /** Per partition, the collection's partition it is (undefined: records of an array). */
    readonly origins: ReadonlyArray<CollectionPartition | undefined>,
  ) {}
}
