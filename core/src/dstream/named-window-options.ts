import { SluiceError } from "../errors/sluice-error.js";
import type { Duration } from "../util/duration.js";

/**
 * The window of a named windowed operation given as options, the shape the function forms take:
 * `reduceByKeyAndWindow("sum", { window: "30s", slide: "10s" })` is
 * `reduceByKeyAndWindow("sum", "30s", "10s")`.
 */
export interface NamedWindowOptions {
  /** Width of the window: a multiple of the stream's slide duration. */
  readonly window: Duration;
  /** How often a window is emitted (default: the stream's slide duration). */
  readonly slide?: Duration;
  /** Partitions of the result, where the operation has them (default: the default parallelism). */
  readonly numPartitions?: number;
}

/** A named windowed operation's window, slide and partitions, from either argument shape. */
export interface NamedWindow {
  readonly window: Duration;
  readonly slide: Duration | undefined;
  readonly numPartitions: number | undefined;
}

const OPTION_NAMES = new Set(["window", "slide", "numPartitions"]);

/**
 * Reads the window of a named windowed operation given as `(window, slide?, numPartitions?)` or
 * as `({ window, slide?, numPartitions? })`; options the named forms do not take (`inverse`,
 * `filter`: a named reduction undoes itself) are refused by name.
 *
 * @example
 * namedWindow("reduceByKeyAndWindow", { window: "30s", slide: "10s" }, undefined, undefined);
 * // { window: "30s", slide: "10s", numPartitions: undefined }
 */
export function namedWindow(
  operation: string,
  windowOrOptions: Duration | NamedWindowOptions,
  slide: Duration | undefined,
  numPartitions: number | undefined,
): NamedWindow {
  if (typeof windowOrOptions !== "object" || windowOrOptions === null) {
    return { window: windowOrOptions, slide, numPartitions };
  }
  const unknown = Object.keys(windowOrOptions).filter((key) => !OPTION_NAMES.has(key));
  if (unknown.length > 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${operation}: a named reduction takes { window, slide?, numPartitions? }; ${unknown.map((key) => `"${key}"`).join(", ")} ${unknown.length === 1 ? "is" : "are"} for the function form (a named reduction undoes itself)`,
    );
  }
  if (slide !== undefined || numPartitions !== undefined) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${operation}: give the slide and partitions inside the options object, not after it`,
    );
  }
  return {
    window: windowOrOptions.window,
    slide: windowOrOptions.slide,
    numPartitions: windowOrOptions.numPartitions,
  };
}
