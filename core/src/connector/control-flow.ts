import { hasErrorCode, SluiceError } from "../errors/sluice-error.js";

/**
 * The connection is gone or could not be opened. Sluice calls `connect` again, with
 * exponential backoff between attempts; records already returned stay unacknowledged.
 *
 * @example
 * socket.on("error", (error) => { this.#failure = new NotConnectedError("lost the server", { cause: error }); });
 */
export class NotConnectedError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SLUICE_NOT_CONNECTED", message, options);
    this.name = "NotConnectedError";
  }
}

/**
 * The source has delivered everything it ever will. Sluice outputs what it holds, stops the
 * receiver gracefully and never calls `read` again.
 *
 * @example
 * if (this.#finished) throw new EndOfInputError("the end marker _DONE was read");
 */
export class EndOfInputError extends SluiceError {
  constructor(message = "end of input", options?: { cause?: unknown }) {
    super("SLUICE_END_OF_INPUT", message, options);
    this.name = "EndOfInputError";
  }
}

/**
 * The external system asked to slow down (rate limit, throttling). Sluice waits
 * `retryAfterMs` (or its own backoff when absent) before the next call; nothing is lost.
 *
 * @example
 * if (response.status === 429) throw new BackoffError("throttled", { retryAfterMs: 1000 });
 */
export class BackoffError extends SluiceError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super("SLUICE_BACKOFF", message, options);
    this.name = "BackoffError";
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A record the external system cannot take (`SLUICE_INVALID_RECORD`), with its index in the
 * `writeBatch` call when a sink knows it: Sluice then sends that record to the dead-letter sink
 * (when the job has one) and writes the others again.
 *
 * @example
 * throw new InvalidRecordError(`record ${index} of batch ${batchTime} is not JSON`, { recordIndex: index });
 */
export class InvalidRecordError extends SluiceError {
  readonly recordIndex: number | undefined;

  constructor(message: string, options?: { recordIndex?: number; cause?: unknown }) {
    super("SLUICE_INVALID_RECORD", message, options);
    this.name = "InvalidRecordError";
    this.recordIndex = options?.recordIndex;
  }
}

/**
 * The index of the record an `InvalidRecordError` names, also one thrown by another copy of
 * Sluice; `undefined` for any other error.
 *
 * @example
 * const index = invalidRecordIndex(error);
 */
export function invalidRecordIndex(error: unknown): number | undefined {
  if (!hasErrorCode(error, "SLUICE_INVALID_RECORD")) return undefined;
  const index = (error as { recordIndex?: unknown }).recordIndex;
  return typeof index === "number" && Number.isInteger(index) && index >= 0 ? index : undefined;
}

/**
 * True for a `NotConnectedError`, also one thrown by another copy of Sluice.
 *
 * @example
 * if (isNotConnected(error)) await source.connect(signal);
 */
export function isNotConnected(error: unknown): boolean {
  return hasErrorCode(error, "SLUICE_NOT_CONNECTED");
}

/**
 * True for an `EndOfInputError`, also one thrown by another copy of Sluice.
 *
 * @example
 * if (isEndOfInput(error)) return;
 */
export function isEndOfInput(error: unknown): boolean {
  return hasErrorCode(error, "SLUICE_END_OF_INPUT");
}

/**
 * The wait a `BackoffError` asks for: its `retryAfterMs`, `undefined` when it names none,
 * `null` when `error` is not a backoff at all.
 *
 * @example
 * const wait = backoffRequest(error); if (wait !== null) await delay(wait ?? 1000);
 */
export function backoffRequest(error: unknown): number | undefined | null {
  if (!hasErrorCode(error, "SLUICE_BACKOFF")) return null;
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof retryAfterMs === "number" && retryAfterMs >= 0 ? retryAfterMs : undefined;
}
