import { internalsOf } from "../context/context-internals.js";
import type { StreamingContext } from "../context/streaming-context.js";
import { type DeadLetterOutput, deadLetterOf, recordFailure } from "./dead-letters.js";

/** What a guarded `map` returns for a record that went to the dead-letter sink. */
export const SKIPPED_RECORD: unique symbol = Symbol("sluice.skippedRecord");

/** How many times a record function is tried before the record counts as failed. */
export const RECORD_ATTEMPTS = 3;

interface RecordFailures {
  deadLetters: DeadLetterOutput | undefined;
  /** The batch whose outputs are running (on the driver). */
  batchTime: number | undefined;
}

const failuresByContext = new WeakMap<StreamingContext, RecordFailures>();

function failuresOf(context: StreamingContext): RecordFailures {
  let failures = failuresByContext.get(context);
  if (failures === undefined) {
    const created: RecordFailures = { deadLetters: undefined, batchTime: undefined };
    failures = created;
    failuresByContext.set(context, created);
    internalsOf(context).listenerBus.add({
      onBatchStarted: (info) => {
        created.batchTime = info.batchTime;
      },
      onBatchCompleted: () => {
        created.batchTime = undefined;
      },
    });
  }
  return failures;
}

/**
 * Sets the dead-letter output of a context (`ctx.deadLetters`).
 *
 * @example
 * setDeadLetters(ctx, new DeadLetterOutput(ctx, "file", { directory: "dead" }));
 */
export function setDeadLetters(context: StreamingContext, output: DeadLetterOutput): void {
  failuresOf(context).deadLetters = output;
}

/**
 * The dead-letter output of a running context, if it has one. Executor threads never start their
 * context, so there a failed record fails its task instead (and the batch after the retries).
 *
 * @example
 * const deadLetters = activeDeadLetters(ctx);
 */
export function activeDeadLetters(context: StreamingContext): DeadLetterOutput | undefined {
  const failures = failuresByContext.get(context);
  if (failures === undefined || internalsOf(context).state() !== "ACTIVE") return undefined;
  return failures.deadLetters;
}

/**
 * The batch whose outputs run now on the driver, for messages and dead letters.
 *
 * @example
 * currentBatchTime(ctx); // 3000
 */
export function currentBatchTime(context: StreamingContext): number | undefined {
  return failuresByContext.get(context)?.batchTime;
}

/**
 * Wraps a per-record function of `operation` (`map`, `filter`, ...): on the driver, a record it
 * throws on is tried again, then goes to the dead-letter sink (the function then returns
 * `skipped`) or fails the batch with `SLUICE_RECORD_FAILED`, naming the operation, the batch and
 * the source offset. On executor threads the error is left to the task retries.
 *
 * @example
 * const parse = guardRecords(ctx, "map", (text: string) => JSON.parse(text), SKIPPED_RECORD);
 */
export function guardRecords<A, R, S>(
  context: StreamingContext,
  operation: string,
  fn: (record: A) => R,
  skipped: S,
): (record: A) => R | S {
  failuresOf(context);
  return (record: A): R | S => {
    try {
      return fn(record);
    } catch (first) {
      // Executor threads never start their context: there the task fails and is retried as a
      // whole (taskMaxFailures), and the driver reports it.
      if (internalsOf(context).state() !== "ACTIVE") throw first;
      let error: unknown = first;
      for (let attempt = 2; attempt <= RECORD_ATTEMPTS; attempt++) {
        try {
          return fn(record);
        } catch (again) {
          error = again;
        }
      }
      const time = currentBatchTime(context);
      const deadLetters = activeDeadLetters(context);
      if (deadLetters === undefined) {
        throw recordFailure(record, error, operation, time, RECORD_ATTEMPTS);
      }
      deadLetters.capture(deadLetterOf(record, error, operation, time));
      return skipped;
    }
  };
}
