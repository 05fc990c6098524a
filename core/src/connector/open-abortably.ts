import { abortable } from "../util/async.js";

/**
 * Resolves like `opening`, or rejects with the signal's reason once `signal` aborts; a
 * connection that opens after the abort is handed to `dispose`, so none is left open.
 *
 * @example
 * const connection = await openAbortably(amqp.connect(url), signal, (late) => late.close());
 */
export async function openAbortably<T>(
  opening: Promise<T>,
  signal: AbortSignal,
  dispose: (late: T) => unknown,
): Promise<T> {
  try {
    return await abortable(opening, signal);
  } catch (error) {
    if (signal.aborted) opening.then(dispose).catch(() => undefined);
    throw error;
  }
}
