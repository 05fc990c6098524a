import { type Duration, parseDuration, requireMultipleOf } from "../util/duration.js";

/** A window's length and slide, in milliseconds. */
export interface WindowTiming {
  readonly windowMs: number;
  readonly slideMs: number;
}

/**
 * Parses a window operator's durations: the slide defaults to the parent's, and both must be
 * multiples of the parent's slide (Spark's rule), else `SLUICE_INVALID_DURATION` names the valid
 * values.
 *
 * @example
 * windowTiming(1000, "30s", "10s"); // { windowMs: 30000, slideMs: 10000 }
 */
export function windowTiming(
  parentSlideMs: number,
  window: Duration,
  slide: Duration | undefined,
): WindowTiming {
  const windowMs = parseDuration(window, "window");
  const slideMs = slide === undefined ? parentSlideMs : parseDuration(slide, "slide");
  requireMultipleOf(windowMs, parentSlideMs, "the window duration", "the parent's slide duration");
  requireMultipleOf(slideMs, parentSlideMs, "the slide duration", "the parent's slide duration");
  return { windowMs, slideMs };
}

/**
 * True when the parent's batch at `time` is inside some window: the first window ending at or
 * after `time` (windows end at `zero` plus multiples of the slide) starts before it. With a slide
 * longer than the window, the batches between two windows are in none.
 *
 * @example
 * inSomeWindow(1000, 0, 2000, 3000); // false: windows (1 s, 3 s], (4 s, 6 s], ...
 */
export function inSomeWindow(
  time: number,
  zero: number,
  windowMs: number,
  slideMs: number,
): boolean {
  const nextEnd = zero + Math.ceil((time - zero) / slideMs) * slideMs;
  return nextEnd - windowMs < time;
}
