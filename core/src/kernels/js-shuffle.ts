import { SluiceError } from "../errors/sluice-error.js";
import type { ShuffleResult } from "./kernels.js";

/**
 * Groups rows by partition id with a stable counting sort: the twin of the engine's `shuffle`.
 *
 * @example
 * shuffleJs(Uint32Array.of(1, 0, 1), 2); // permutation [1, 0, 2], bounds [0, 1, 3]
 */
export function shuffleJs(partitionIds: Uint32Array, numPartitions: number): ShuffleResult {
  const rows = partitionIds.length;
  const bounds = new Uint32Array(numPartitions + 1);
  for (let row = 0; row < rows; row++) {
    const p = partitionIds[row] as number;
    if (p >= numPartitions) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_ARGUMENT",
        `invalid argument \`partitionIds\`: row ${row} names partition ${p}, but there are only ${numPartitions}`,
      );
    }
    bounds[p + 1] = (bounds[p + 1] as number) + 1;
  }
  for (let p = 0; p < numPartitions; p++)
    bounds[p + 1] = (bounds[p + 1] as number) + (bounds[p] as number);
  const cursor = bounds.slice(0, numPartitions);
  const permutation = new Uint32Array(rows);
  for (let row = 0; row < rows; row++) {
    const p = partitionIds[row] as number;
    const at = cursor[p] as number;
    permutation[at] = row;
    cursor[p] = at + 1;
  }
  return { permutation, bounds };
}
