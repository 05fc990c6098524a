import { SluiceError } from "../errors/sluice-error.js";
import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";

/**
 * The reductions `reduceByKey` accepts by name. They are declarative, so they can run on the
 * columnar kernels; this module is their one TypeScript implementation (the place to route them
 * through `Kernels.reduceByKey*`).
 */
export type NamedReduction = "sum" | "count" | "min" | "max";

const NAMES: ReadonlySet<unknown> = new Set<NamedReduction>(["sum", "count", "min", "max"]);

/**
 * True when `value` names a reduction.
 *
 * @example
 * isNamedReduction("sum"); // true
 */
export function isNamedReduction(value: unknown): value is NamedReduction {
  return NAMES.has(value);
}

/**
 * Reduces every key's values of a batch with a named reduction and hash-partitions the result
 * into `numPartitions` (`partitionOfKey`). The kernels' rules: keys in first-seen order within a
 * partition; `sum` adds in row order starting from `+0`; `count` counts values; `min`/`max` use
 * `Math.min`/`Math.max` (a NaN wins). Values other than numbers are rejected (except for `count`).
 *
 * @example
 * reduceByKeyNamed({ time: 1000, partitions: [[["a", 1], ["a", 2]]] }, "sum", 1); // [[["a", 3]]]
 */
export function reduceByKeyNamed<K>(
  batch: Batch<readonly [K, unknown]>,
  op: NamedReduction,
  numPartitions: number,
): [K, number][][] {
  const groups = Array.from({ length: numPartitions }, () => new KeyedMap<K, number>());
  for (const partition of batch.partitions) {
    for (const [key, value] of partition) {
      requireNumber(op, key, value);
      const target = groups[partitionOfKey(key, numPartitions)] as KeyedMap<K, number>;
      const previous = target.get(key);
      target.set(
        key,
        previous === undefined
          ? startReduction(op, value as number)
          : stepReduction(op, previous, value as number),
      );
    }
  }
  return groups.map((group) => [...group]);
}

/**
 * Throws the error `reduceByKey(op)` gives for a value that is not a number (any value counts).
 *
 * @example
 * requireNumber("sum", "k", "7"); // throws SLUICE_INVALID_ARGUMENT
 */
export function requireNumber(op: NamedReduction, key: unknown, value: unknown): void {
  if (op !== "count" && typeof value !== "number") {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `reduceByKey("${op}"): the value of key ${String(key)} is ${typeof value}, not a number; map it to a number first or pass a function`,
    );
  }
}

/**
 * A key's first value reduced on its own (`sum` starts from `+0`, `count` at 1).
 *
 * @example
 * startReduction("count", 42); // 1
 */
export function startReduction(op: NamedReduction, value: number): number {
  switch (op) {
    case "sum":
      return 0 + value;
    case "count":
      return 1;
    default:
      return value;
  }
}

/**
 * A key's running result with one more value.
 *
 * @example
 * stepReduction("max", 3, 5); // 5
 */
export function stepReduction(op: NamedReduction, accumulated: number, value: number): number {
  switch (op) {
    case "sum":
      return accumulated + value;
    case "count":
      return accumulated + 1;
    case "min":
      return Math.min(accumulated, value);
    case "max":
      return Math.max(accumulated, value);
  }
}
