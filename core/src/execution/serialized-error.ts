import { SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
import type { SerializedError } from "./messages.js";

/**
 * An error in a form that crosses threads with its `code` (structured clone drops an Error's
 * own properties).
 *
 * @example
 * port.postMessage({ type: "task-failed", error: serializeError(error, 3) });
 */
export function serializeError(error: unknown, streamId?: number): SerializedError {
  const operator =
    streamId ?? (error as { sluiceStreamId?: unknown } | null)?.sluiceStreamId ?? undefined;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
      streamId: typeof operator === "number" ? operator : undefined,
    };
  }
  return {
    name: "Error",
    message: String(error),
    stack: undefined,
    code: undefined,
    streamId: typeof operator === "number" ? operator : undefined,
  };
}

/**
 * The error again, on this side: a `SluiceError` when it carried a Sluice code, else an `Error`
 * with the same name, message and stack.
 *
 * @example
 * const cause = deserializeError(message.error);
 */
export function deserializeError(serialized: SerializedError): Error {
  const error =
    serialized.code?.startsWith("SLUICE_") === true
      ? new SluiceError(serialized.code as SluiceErrorCode, serialized.message)
      : new Error(serialized.message);
  if (!(error instanceof SluiceError)) error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  if (serialized.code !== undefined && !(error instanceof SluiceError)) {
    (error as { code?: string }).code = serialized.code;
  }
  return error;
}
