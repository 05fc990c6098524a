import { SluiceError } from "../errors/sluice-error.js";
import { abortedWait, type Clock } from "./clock.js";

interface Waiter {
  readonly time: number;
  readonly resolve: (now: number) => void;
}

/**
 * A clock that moves only when told to: for tests, where batches are driven by `advance` and
 * nothing sleeps. Waits resolve in time order as soon as the clock reaches them.
 *
 * @example
 * const clock = new ManualClock();
 * const ctx = new StreamingContext({ batchInterval: 1000, clock });
 * // ... build and start, then:
 * clock.advance(1000); // the batch at 1000 ms is generated
 */
export class ManualClock implements Clock {
  private time: number;
  private waiters: Waiter[] = [];

  constructor(startTime = 0) {
    checkTime(startTime, "startTime");
    this.time = startTime;
  }

  now(): number {
    return this.time;
  }

  /** Moves the clock forward by `ms` milliseconds and wakes every wait now due. */
  advance(ms: number): void {
    checkTime(ms, "ms");
    this.setTime(this.time + ms);
  }

  /** Sets the clock to `time` (never backwards) and wakes every wait now due. */
  setTime(time: number): void {
    checkTime(time, "time");
    if (time < this.time) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `ManualClock cannot go back from ${this.time} ms to ${time} ms`,
      );
    }
    this.time = time;
    const due = this.waiters.filter((waiter) => waiter.time <= time);
    this.waiters = this.waiters.filter((waiter) => waiter.time > time);
    due.sort((a, b) => a.time - b.time);
    for (const waiter of due) waiter.resolve(time);
  }

  waitUntil(time: number, signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(abortedWait());
    if (this.time >= time) return Promise.resolve(this.time);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        time,
        resolve: (now) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(now);
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(abortedWait());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}

function checkTime(value: number, field: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `ManualClock: ${field} must be a finite number of milliseconds of at least 0, got ${value}`,
    );
  }
}
