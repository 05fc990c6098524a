import type { SinkRecord, WriteBatchContext } from "sluice/connector";

/** Batches (times, partitions) whose first positions are remembered at once. */
const REMEMBERED = 64;

/**
 * Each record's index in the first `writeBatch` call of its batch and partition: what its write
 * timestamp is made of. A job with a dead-letter sink writes a batch again without a record the
 * sink refused, and the records after it move up; timestamps from their new indices could put an
 * earlier record of a key above a later one already written by the earlier attempt, and the
 * earlier record would win. The records of such a call are the objects of the first one, so
 * they are recognised by identity; a call with any record not seen before starts afresh.
 *
 * @example
 * const positions = new FirstPositions();
 * positions.of(records, context); // [0, 1, 2, 3]
 * positions.of([records[0], records[2], records[3]], context); // [0, 2, 3]
 */
export class FirstPositions {
  readonly #byBatch = new Map<string, WeakMap<SinkRecord, number>>();

  /** The first index of each record of a `writeBatch` call. */
  of(records: readonly SinkRecord[], context: WriteBatchContext): number[] {
    const key = `${context.batchTime}/${context.partition}/${context.writer ?? ""}`;
    const known = this.#byBatch.get(key);
    if (known !== undefined && records.every((record) => known.has(record))) {
      return records.map((record) => known.get(record) as number);
    }
    const positions = new WeakMap<SinkRecord, number>();
    for (const [index, record] of records.entries()) positions.set(record, index);
    this.#byBatch.delete(key);
    this.#byBatch.set(key, positions);
    if (this.#byBatch.size > REMEMBERED) {
      const oldest = this.#byBatch.keys().next().value;
      if (oldest !== undefined) this.#byBatch.delete(oldest);
    }
    return records.map((_, index) => index);
  }
}
