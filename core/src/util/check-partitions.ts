import { SluiceError } from "../errors/sluice-error.js";

/**
 * Returns `value` when it is a usable partition count (an integer of at least 1), else throws a
 * `SLUICE_INVALID_ARGUMENT` error naming the field.
 *
 * @example
 * const n = checkPartitionCount(options.numPartitions ?? 2, "numPartitions");
 */
export function checkPartitionCount(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${field} must be an integer of at least 1, got ${String(value)}`,
    );
  }
  return value;
}
