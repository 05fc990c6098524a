import { deadLetterOf, recordFailure } from "../recovery/dead-letters.js";
import type { RecordFailures } from "./record-failures.js";

/** What a guarded `map` returns for a record that went to the dead-letter sink. */
export const SKIPPED_RECORD: unique symbol = Symbol("sluice.skippedRecord");

/** How many times a record function is tried before the record counts as failed. */
export const RECORD_ATTEMPTS = 3;

/**
 * Wraps a per-record function of `operation` (`map`, `filter`, ...): on the driver, a record it
 * throws on is tried again, then goes to the dead-letter sink (the function then returns
 * `skipped`) or fails the batch with `SLUICE_RECORD_FAILED`, naming the operation, the batch and
 * the source offset. On executor threads the error is left to the task retries.
 *
 * @example
 * const parse = guardRecords(scope.recordFailures, "map", (text: string) => JSON.parse(text), SKIPPED_RECORD);
 */
export function guardRecords<A, R, S>(
  failures: RecordFailures,
  operation: string,
  fn: (record: A) => R,
  skipped: S,
): (record: A) => R | S {
  return (record: A): R | S => {
    try {
      return fn(record);
    } catch (first) {
      // Executor threads never start their context: there the task fails and is retried as a
      // whole (taskMaxFailures), and the driver reports it.
      if (!failures.active) throw first;
      let error: unknown = first;
      for (let attempt = 2; attempt <= RECORD_ATTEMPTS; attempt++) {
        try {
          return fn(record);
        } catch (again) {
          error = again;
        }
      }
      const time = failures.batchTime;
      const deadLetters = failures.activeDeadLetters();
      if (deadLetters === undefined) {
        throw recordFailure(record, error, operation, time, RECORD_ATTEMPTS);
      }
      deadLetters.capture(deadLetterOf(record, error, operation, time));
      return skipped;
    }
  };
}
