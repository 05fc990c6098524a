import { SluiceError } from "../errors/sluice-error.js";
import { MAX_DURATION_MS } from "../util/duration.js";

/**
 * The time source the job generator ticks on. Production uses `SystemClock`; tests inject a
 * `ManualClock` (from `sluice/testing`) and move time themselves, so nothing sleeps.
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /**
   * Resolves with the current time once it is at least `time`; rejects with a
   * `SLUICE_ILLEGAL_STATE` error when `signal` aborts first.
   */
  waitUntil(time: number, signal?: AbortSignal): Promise<number>;
}

/**
 * The wall clock (`Date.now()`), waiting with timers.
 *
 * @example
 * const ctx = new StreamingContext({ batchInterval: "1s", clock: new SystemClock() });
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  waitUntil(time: number, signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortedWait());
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortedWait());
      };
      const check = (): void => {
        const now = Date.now();
        // Timers may fire a millisecond early; wait again rather than tick before the time.
        if (now >= time) {
          signal?.removeEventListener("abort", onAbort);
          resolve(now);
        } else {
          // Node's timers hold at most MAX_DURATION_MS (longer ones fire at once, in a loop):
          // a far wait is taken in steps, re-checked on every wake.
          timer = setTimeout(check, Math.min(time - now, MAX_DURATION_MS));
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      check();
    });
  }
}

/**
 * The error a clock rejects a wait with when its signal aborts.
 *
 * @example
 * signal.addEventListener("abort", () => reject(abortedWait()));
 */
export function abortedWait(): SluiceError {
  return new SluiceError("SLUICE_ILLEGAL_STATE", "the wait for the clock was cancelled");
}
