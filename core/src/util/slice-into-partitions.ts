/**
 * Cuts `records` into `numPartitions` contiguous slices of near-equal size, the way Spark's
 * `parallelize` does (slice i holds `[i*n/p, (i+1)*n/p)`), so flattening restores the order.
 *
 * @example
 * sliceIntoPartitions([1, 2, 3, 4, 5], 2); // [[1, 2], [3, 4, 5]]
 */
export function sliceIntoPartitions<T>(records: readonly T[], numPartitions: number): T[][] {
  const partitions: T[][] = [];
  const length = records.length;
  for (let i = 0; i < numPartitions; i++) {
    const start = Math.floor((i * length) / numPartitions);
    const end = Math.floor(((i + 1) * length) / numPartitions);
    partitions.push(records.slice(start, end));
  }
  return partitions;
}
