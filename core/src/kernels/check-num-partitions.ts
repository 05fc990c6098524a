import { SluiceError } from "../errors/sluice-error.js";

/**
 * Rejects a partition count the kernels cannot use, with the native kernels' code.
 *
 * @example
 * checkNumPartitions(0); // throws SLUICE_NATIVE_INVALID_ARGUMENT
 */
export function checkNumPartitions(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 0xffffffff) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`numPartitions\`: must be an integer of at least 1, got ${numPartitions}`,
    );
  }
}
