import { deadLetterOf, recordFailure } from "../recovery/dead-letters.js";
import { isThenable, promiseResult } from "./promise-result.js";
import type { RecordFailures } from "./record-failures.js";

/** What a guarded `map` returns for a record that went to the dead-letter sink. */
export const SKIPPED_RECORD: unique symbol = Symbol("sluice.skippedRecord");

/** How many times a record function is tried before the record counts as failed. */
export const RECORD_ATTEMPTS = 3;

/**
 * Wraps a per-record function of `operation` (`map`, `filter`, ...): a record it throws on is
 * tried again, then goes to the dead-letter sink (the function then returns `skipped`) or fails
 * the batch with `SLUICE_RECORD_FAILED`, naming the operation, the batch and the source offset.
 * On an executor thread the dead letter goes back to the driver with the task's result, and
 * without a dead-letter sink the task fails (and is retried as a whole, `taskMaxFailures`).
 * A Promise as the result (an `async` function) fails the batch with `SLUICE_INVALID_ARGUMENT`.
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
  // The first result that is not a Promise ends the check: one branch per record after it.
  let checked = false;
  return (record: A): R | S => {
    let result: R;
    try {
      result = fn(record);
    } catch (first) {
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
      if (deadLetters !== undefined) {
        deadLetters.capture(deadLetterOf(record, error, operation, time));
        return skipped;
      }
      // Executor threads never start their context: the driver writes the task's dead letters.
      if (failures.captureInTask(deadLetterOf(record, error, operation, time))) return skipped;
      throw recordFailure(record, error, operation, time, RECORD_ATTEMPTS);
    }
    if (!checked) {
      if (isThenable(result)) throw promiseResult(operation);
      checked = true;
    }
    return result;
  };
}
