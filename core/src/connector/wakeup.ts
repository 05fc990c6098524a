/**
 * Lets a pending `read` sleep until something changes (data arrived, pause, close) instead of
 * polling: `wait` resolves on the next `notify`, when the signal aborts, or after `timeoutMs`.
 * Exported for connector packages, whose sources wait the same way.
 *
 * @example
 * const wakeup = new Wakeup();
 * setTimeout(() => wakeup.notify(), 10);
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
  wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs);
    });
  }
}
