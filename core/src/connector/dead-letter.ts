/** What a record that failed is written to the dead-letter sink as (one JSON line). */
export interface DeadLetter {
  /** The batch the record was in. */
  readonly batchTime: number | undefined;
  /** The operation that failed on it: `map`, `filter`, `sink(sink:file#1)`, ... */
  readonly operation: string;
  /** The error's message, and its code when it has one. */
  readonly error: string;
  readonly errorCode: string | undefined;
  /** Where the record came from, when the failing operation had the source record itself. */
  readonly source: { readonly partition: string; readonly offset: string } | undefined;
  /**
   * Where a sink refused the record: the batch's partition it was written from and its index
   * among that partition's records, counted in the whole partition even when records refused
   * before it were left out of the write that refused it.
   */
  readonly batchPosition?: { readonly partition: number; readonly index: number };
  /** The record as text (JSON for objects; UTF-8 for a source record's value). */
  readonly record: string;
}
