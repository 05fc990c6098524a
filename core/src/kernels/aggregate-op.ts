import { SluiceError } from "../errors/sluice-error.js";
import type { AggregateOp } from "./kernels.js";

const OPS: ReadonlySet<string> = new Set<AggregateOp>(["sum", "count", "min", "max", "mean"]);

/** The ops in the order of their stable byte codes (as in snapshots). */
export const AGGREGATE_OPS: readonly AggregateOp[] = ["sum", "count", "min", "max", "mean"];

/**
 * Rejects anything but a known op name, with the native kernels' code and message.
 *
 * @example
 * checkAggregateOp("sum");
 */
export function checkAggregateOp(op: string): asserts op is AggregateOp {
  if (!OPS.has(op)) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`op\`: must be one of sum, count, min, max, mean; got ${JSON.stringify(op)}`,
    );
  }
}

/**
 * Checks that `values` fits `rows` keys for `op`: one value per key, or none for `count`.
 *
 * @example
 * checkValues("count", 3, 0); // fine: count ignores values
 */
export function checkValues(op: AggregateOp, rows: number, values: number): void {
  if (values === rows || (op === "count" && values === 0)) return;
  throw new SluiceError(
    "SLUICE_NATIVE_INVALID_ARGUMENT",
    `invalid argument \`values\`: holds ${values} entries for ${rows} keys (give one value per key${
      op === "count" ? ", or none for count" : ""
    })`,
  );
}
