/**
 * Lets a pending `read` sleep until something changes (records fetched, pause, close, a
 * failure) instead of polling: `wait` resolves on the next `notify`, when the signal aborts,
 * or after `timeoutMs`.
 *
 * @example
 * await wakeup.wait(signal, 1000);
 */
export class Wakeup {
  readonly #waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves (never rejects) on the next notify, abort of `signal`, or timeout. */
  wait(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}
