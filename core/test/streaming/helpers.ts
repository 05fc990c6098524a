import { canonicalKey } from "sluice";

/** Orders values naturally: numbers by value, strings by code unit, arrays element by element. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = compareValues(a[i], b[i]);
      if (order !== 0) return order;
    }
    return a.length - b.length;
  }
  const [left, right] = [canonicalKey(a), canonicalKey(b)];
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Each batch's records sorted (`compareValues`): for comparing outputs whose order within a
 * batch depends on hash partitioning (Spark's suites compare those as sets too).
 */
export function sortedBatches<T>(batches: T[][]): T[][] {
  return batches.map((batch) => [...batch].sort(compareValues));
}

/** Integers from `from` to `to`, both included (Scala's `from to to`). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
