import { SluiceError } from "../errors/sluice-error.js";

/** A unit a duration string may end with: milliseconds, seconds, minutes or hours. */
export type DurationUnit = "ms" | "s" | "m" | "min" | "h";

/**
 * A span of time: a number of milliseconds, or a string such as `"500ms"`, `"2s"`, `"1m"`.
 *
 * @example
 * const interval: Duration = "2s"; // the same as 2000
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)$/;

/**
 * The longest duration Sluice accepts: 2^31 - 1 ms (about 24.8 days), the most a Node.js timer
 * can wait. Longer ones become timers that Node fires after 1 ms with a `TimeoutOverflowWarning`,
 * so a batch interval of `1e300` would tick without pause; they are refused where they are read.
 *
 * @example
 * parseDuration(MAX_DURATION_MS, "batchInterval"); // 2147483647
 */
export const MAX_DURATION_MS = 2_147_483_647;

/**
 * Throws a `SluiceError` naming `field` unless `ms` is a whole number of milliseconds a timer can
 * hold (1 to `MAX_DURATION_MS`); for millisecond values that skip `parseDuration`.
 *
 * @example
 * requireTimerMs(30_000, "connectTimeoutMs"); // ok
 */
export function requireTimerMs(ms: number, field: string, given: unknown = ms): void {
  if (typeof ms === "number" && Number.isInteger(ms) && ms >= 1 && ms <= MAX_DURATION_MS) return;
  throw new SluiceError(
    "SLUICE_INVALID_DURATION",
    `${field}: a duration must be a whole number of milliseconds from 1 to ${MAX_DURATION_MS} (about 24.8 days, the longest a timer can wait), got ${String(given)}`,
  );
}

/**
 * Converts a duration to whole milliseconds (1 to `MAX_DURATION_MS`), or throws a `SluiceError`
 * naming the field, the value and the allowed range.
 *
 * @example
 * parseDuration("1.5s", "window"); // 1500
 */
export function parseDuration(value: Duration, field: string): number {
  let ms: number;
  if (typeof value === "number") {
    ms = value;
  } else if (typeof value === "string") {
    const match = DURATION_PATTERN.exec(value.trim());
    if (match === null) {
      throw new SluiceError(
        "SLUICE_INVALID_DURATION",
        `${field}: cannot read duration "${value}"${suggestion(value)}: write a number and a unit with no space, such as "500ms", "2s", "1m" or "1h" (in code or a config file, a number of milliseconds works too)`,
      );
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new SluiceError(
      "SLUICE_INVALID_DURATION",
      `${field}: expected a duration (milliseconds or a string such as "2s"), got ${typeof value}`,
    );
  }
  // Every duration may end up as a timer (batch ticks, checkpoint intervals, timeouts), so the
  // timer limit applies to all of them rather than to whichever callers remember it.
  requireTimerMs(ms, field, value);
  return ms;
}

/**
 * The likely meant duration of a string that is not one, as ` (did you mean "500ms"?)`: a whole
 * number without a unit (as a command line gives `--batch 500`) is milliseconds, and a space
 * before the unit is dropped; otherwise nothing.
 */
function suggestion(value: string): string {
  const compact = value.replace(/\s+/g, "");
  const meant = /^\d+$/.test(compact) && Number(compact) > 0 ? `${compact}ms` : compact;
  return meant !== value && DURATION_PATTERN.test(meant) ? ` (did you mean "${meant}"?)` : "";
}

/**
 * Formats milliseconds the way Sluice's messages and `print` show times: `"1000 ms"`.
 *
 * @example
 * formatMs(2000); // "2000 ms"
 */
export function formatMs(ms: number): string {
  return `${ms} ms`;
}

/**
 * Throws unless `duration` is a positive multiple of `unit`; the message lists valid values.
 *
 * @example
 * requireMultipleOf(4000, 1000, "window duration", "the parent's slide duration");
 */
export function requireMultipleOf(
  duration: number,
  unit: number,
  what: string,
  unitName: string,
): void {
  if (duration % unit === 0) return;
  const examples = [1, 2, 3].map((n) => formatMs(unit * n)).join(", ");
  throw new SluiceError(
    "SLUICE_INVALID_DURATION",
    `${what} ${formatMs(duration)} must be a multiple of ${unitName} ${formatMs(unit)}; valid values are ${examples}, ...`,
  );
}
