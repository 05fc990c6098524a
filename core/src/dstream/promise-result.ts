import { SluiceError } from "../errors/sluice-error.js";

/**
 * True when `value` is a Promise or another thenable: what an `async` per-record function (or
 * one missing an `await`) returns instead of its result.
 *
 * @example
 * isThenable(Promise.resolve(1)); // true
 */
export function isThenable(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * The error for a per-record function that returned a Promise: a Promise would flow on as a
 * record (printed as `{}`, always true to `filter`, not iterable to `flatMap`, unable to cross
 * threads). Per-record functions are synchronous, as in Spark; asynchronous work goes per batch.
 *
 * @example
 * if (isThenable(result)) throw promiseResult("map");
 */
export function promiseResult(operation: string): SluiceError {
  return new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `${operation}'s function returned a Promise (an async function, or a missing await): per-record functions must return their result itself. Do asynchronous work per batch in transform(async (batch) => ...) or foreachBatch, or in a sink`,
  );
}
