// Shared bits of the smoke tests against the local servers of scripts/services/.
// Start them first: scripts/services/install && scripts/services/start
import { randomUUID } from "node:crypto";

/** Per-test timeout of the smoke tests. */
export const SMOKE_TIMEOUT_MS = 60_000;

/** A name no earlier run used: `<prefix><sep><time><sep><random>`, lower case. */
export function uniqueName(prefix: string, sep = "-"): string {
  const random = randomUUID().replaceAll("-", "").slice(0, 12);
  return [prefix, Date.now().toString(36), random].join(sep);
}

/** Resolves like `promise`, or rejects naming `what` when it takes longer than `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolve and reject functions, for callbacks that deliver one value. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Wraps a connection failure so the message says which server to start. */
export function serverMissing(service: string, address: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  return new Error(
    `${service} is not answering on ${address} (${reason}); ` +
      `start it with: scripts/services/start ${service}`,
    { cause: err },
  );
}
