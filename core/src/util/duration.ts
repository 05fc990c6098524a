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
 * Converts a duration to whole milliseconds (at least 1), or throws a `SluiceError` naming the field.
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
        `${field}: cannot read duration "${value}"; write milliseconds as a number or a string such as "500ms", "2s", "1m" or "1h"`,
      );
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new SluiceError(
      "SLUICE_INVALID_DURATION",
      `${field}: expected a duration (milliseconds or a string such as "2s"), got ${typeof value}`,
    );
  }
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < 1) {
    throw new SluiceError(
      "SLUICE_INVALID_DURATION",
      `${field}: a duration must be a whole number of milliseconds of at least 1, got ${String(value)}`,
    );
  }
  return ms;
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
