import { SluiceError } from "../errors/sluice-error.js";
import { checkAggregateOp } from "./aggregate-op.js";
import type { WindowKeyKind, WindowOptions } from "./kernels.js";

/**
 * Rejects a time the kernels cannot use (a whole number of ms from 0 to 2^53 - 1), with the
 * native kernels' code and message.
 *
 * @example
 * checkTime("timeMs", 1000);
 */
export function checkTime(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`${name}\`: must be from 0 to 2^53 - 1 ms, got ${value}`,
    );
  }
}

/**
 * Checks window options the way the engine does.
 *
 * @example
 * checkWindowOptions({ op: "sum", windowMs: 30_000, slideMs: 1000, keyKind: "utf8" });
 */
export function checkWindowOptions<K extends WindowKeyKind>(options: WindowOptions<K>): void {
  checkAggregateOp(options.op);
  for (const name of ["windowMs", "slideMs"] as const) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_ARGUMENT",
        `invalid argument \`${name}\`: must be a whole number of milliseconds from 1 to 2^53 - 1, got ${value}`,
      );
    }
  }
  if (options.keyKind !== "utf8" && options.keyKind !== "i64") {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`keyKind\`: must be "utf8" or "i64"; got ${JSON.stringify(options.keyKind)}`,
    );
  }
}

/**
 * Greatest common divisor: the pane length of a window.
 *
 * @example
 * gcd(30_000, 2000); // 2000
 */
export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/**
 * `floor(a / b)` for non-negative safe integers, exact even where `a / b` rounds.
 *
 * @example
 * floorDiv(7, 2); // 3
 */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}

/**
 * `ceil(a / b)` for non-negative safe integers, exact.
 *
 * @example
 * ceilDiv(7, 2); // 4
 */
export function ceilDiv(a: number, b: number): number {
  const q = floorDiv(a, b);
  return q * b === a ? q : q + 1;
}
