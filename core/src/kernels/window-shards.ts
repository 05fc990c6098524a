import { SluiceError } from "../errors/sluice-error.js";

/** Most shards a window aggregator takes (the native engine's limit). */
export const MAX_WINDOW_SHARDS = 4096;

/**
 * Rejects a shard count the window aggregators cannot use, with the native kernels' code.
 *
 * @example
 * checkShards(2); // fine
 * checkShards(0); // throws SLUICE_NATIVE_INVALID_ARGUMENT
 */
export function checkShards(shards: number | undefined): void {
  if (shards === undefined) return;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_WINDOW_SHARDS) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`shards\`: must be a whole number from 1 to ${MAX_WINDOW_SHARDS}, got ${shards}`,
    );
  }
}
