/**
 * Resolves like `promise`, or rejects with the signal's reason once `signal` aborts. The
 * promise that loses the race may still settle; its rejection is then ignored.
 *
 * @example
 * await abortable(consumer.connect(), signal);
 */
export async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason;
  promise.catch(() => undefined);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Resolves like `promise`, or rejects with `error()` after `ms`.
 *
 * @example
 * await withTimeout(joined, 30_000, () => new Error("no assignment within 30 s"));
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `close` and waits at most `ms` for it, ignoring its failure: for disconnecting a client
 * whose brokers may be gone.
 *
 * @example
 * await closeQuietly(() => producer.disconnect(), 10_000);
 */
export async function closeQuietly(close: () => Promise<void>, ms: number): Promise<void> {
  await withTimeout(close(), ms, () => new Error("close timed out")).catch(() => undefined);
}
