import { SluiceError } from "../errors/sluice-error.js";
import type { AggregateOp } from "./kernels.js";

const OPS: ReadonlySet<string> = new Set<AggregateOp>(["sum", "count", "min", "max", "mean"]);

/**
 * The ops `reduceByKey` takes by name: every op whose partial results merge exactly, so a
 * shuffle may combine them on the map side (`mean` is the sum and the count kept apart).
 */
export type NamedReduction = Exclude<AggregateOp, "mean">;

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

/**
 * A group's accumulator after its first value: the one statement of the rule both engines
 * follow. `sum` starts from `+0` (so a lone `-0` sums to `+0`), `count` at 1, `min`/`max` at
 * the value; `mean` accumulates its sum here (the caller keeps the count and divides).
 *
 * @example
 * startAggregate("sum", -0); // 0 (positive zero)
 */
export function startAggregate(op: AggregateOp, value: number): number {
  switch (op) {
    case "sum":
    case "mean":
      return 0 + value;
    case "count":
      return 1;
    case "min":
    case "max":
      return value;
  }
}

/**
 * A group's accumulator with one more value, in row order: `sum` (and `mean`'s sum) adds,
 * `count` adds one, `min`/`max` follow `Math.min`/`Math.max` (a NaN wins, `-0 < +0`).
 *
 * @example
 * stepAggregate("max", 3, 5); // 5
 */
export function stepAggregate(op: AggregateOp, accumulated: number, value: number): number {
  // The most common op first: this runs once per row in the TypeScript twin.
  switch (op) {
    case "sum":
    case "mean":
      return accumulated + value;
    case "count":
      return accumulated + 1;
    case "min":
      return Math.min(accumulated, value);
    case "max":
      return Math.max(accumulated, value);
  }
}

/**
 * The op that merges partial results of `op` computed over parts of a group's rows: counts
 * add up, minima and maxima merge as themselves. `sum` merges only when each part is a whole
 * group (float addition in another order could change the last bits), which is why a shuffle
 * ships a sum's raw rows unless one map task sees every row.
 *
 * @example
 * partialMergeOp("count"); // "sum"
 */
export function partialMergeOp(op: NamedReduction): NamedReduction {
  return op === "count" ? "sum" : op;
}
