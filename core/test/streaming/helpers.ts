import { canonicalKey } from "sluice";

/**
 * Each batch's records sorted by their canonical text: for comparing outputs whose order within a
 * batch depends on hash partitioning (Spark's suites compare those as sets too).
 */
export function sortedBatches<T>(batches: T[][]): T[][] {
  return batches.map((batch) =>
    [...batch].sort((a, b) =>
      canonicalKey(a) < canonicalKey(b) ? -1 : canonicalKey(a) > canonicalKey(b) ? 1 : 0,
    ),
  );
}

/** Integers from `from` to `to`, both included (Scala's `from to to`). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
