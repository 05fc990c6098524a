/**
 * Promises that resolve once a condition on the scheduler's progress holds; `check()` is called
 * after every change (a batch generated or completed, the context stopped).
 *
 * @example
 * await progress.until(() => lastCompleted >= 3000);
 */
export class Progress {
  private waiters: { condition: () => boolean; resolve: () => void }[] = [];

  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ condition, resolve }));
  }

  check(): void {
    // Called several times per batch; most of the time nobody waits.
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.condition());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }
}
