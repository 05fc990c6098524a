/**
 * Lets a pending `read` sleep until something changes (a delivery, a lost connection, pause,
 * close) instead of polling: `wait` resolves on the next `notify` or when the signal aborts.
 *
 * @example
 * const wakeup = new Wakeup();
 * setTimeout(() => wakeup.notify(), 10);
 * await wakeup.wait(signal);
 */
export class Wakeup {
  readonly #waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves (never rejects) on the next `notify` or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}
