/**
 * What the keyed part of a cluster job needs from the system that carries its shuffle between
 * processes (Kafka: a repartition topic, a changelog topic and a consumer group of their own).
 *
 * A cluster job is cut where its pairs first need every record of a key in one place (the first
 * shuffle or state across batches). Each process reads its share of the input partitions and
 * hands each batch's pairs, split by keyed partition (`partitionOfKey(key, partitions)`), to
 * `write` — the **map side**. Every keyed partition is then owned by one process at a time,
 * which runs the rest of the job for it as a task — the **keyed side**: it restores the task's
 * state (`restore`), takes the partition's batches in time order once they are complete
 * (`nextBatch`) and commits the state after each batch (`commit`).
 *
 * The exchange's promises:
 * - A chunk written for batch *t* is seen by the keyed side exactly once, in exactly one batch,
 *   once the map side's transaction holding it committed (with the input offsets it came from).
 * - Batch *t* of partition *r* is complete when every input partition of the job has passed *t*
 *   (each map side writes a marker per input partition it owns into every keyed partition with
 *   each batch, records or not, so idle inputs do not hold batches back).
 * - A chunk for a time its keyed partition already completed (a new owner of an input partition
 *   whose clock is behind the previous owner's) goes into the next batch not yet complete. The
 *   choice depends only on the partition's log, so a replay makes the same choice.
 * - After `commit(r, t, state)`, whichever process owns `r` next restores `{ time: t, state }`
 *   and continues with the batch after `t`, with the same chunks in the same batches.
 *
 * @example
 * const exchange = await membership.keyedExchange();
 * await exchange.write(time, chunksByPartition);
 */
export interface KeyedExchange {
  /** How many keyed partitions the exchange has (the job's keyed parallelism). */
  readonly partitions: number;

  /**
   * Map side: this process's pairs of batch `time`, one chunk per keyed partition (`undefined`:
   * none for it), written with a marker for every input partition this process reads, inside
   * the batch's transaction. Called once per batch, in time order, for every batch (empty ones
   * too); the batch's input offsets commit with it when the batch is acknowledged.
   */
  write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void>;

  /**
   * Keyed side: calls `listener` with the keyed partitions this process owns whenever that
   * changes (after each rebalance; empty while none), and at once when they are known already.
   * Returns the function that stops listening.
   */
  onAssignment(listener: (partitions: readonly number[]) => void): () => void;

  /**
   * The state last committed for keyed partition `partition`, and the batch time it is for; or
   * `undefined` when the partition never committed. Fences any earlier owner of the partition
   * first, so nothing it still writes can land after this.
   */
  restore(partition: number): Promise<KeyedRestore | undefined>;

  /**
   * The next complete batch of `partition` after the last one returned (or restored). Rejects
   * with an `AbortError` when `signal` aborts (the partition was taken away or the process
   * stops), or when the exchange itself revoked the partition; `restore` and `commit` reject
   * the same way then. An `AbortError` means "dropped", never a failure.
   */
  nextBatch(partition: number, signal: AbortSignal): Promise<KeyedBatch>;

  /**
   * Commits the task state after batch `time` of `partition` together with the consumption of
   * that batch's chunks, atomically. Batch `time` must have come from `nextBatch` since the
   * partition's last `restore`.
   */
  commit(partition: number, time: number, state: Uint8Array): Promise<void>;

  /** Stops the keyed side and the map side's producer. */
  close(): Promise<void>;
}

/** One complete batch of one keyed partition. */
export interface KeyedBatch {
  readonly partition: number;
  readonly time: number;
  /** The chunks written for this partition and time, in log order (opaque bytes). */
  readonly chunks: readonly Uint8Array[];
}

/** What a keyed partition's last commit left. */
export interface KeyedRestore {
  /** The batch time the state is for: batches after it come next. */
  readonly time: number;
  readonly state: Uint8Array;
}
