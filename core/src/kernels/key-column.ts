import { SluiceError } from "../errors/sluice-error.js";
import type { KeyColumn } from "./kernels.js";

const encoder = new TextEncoder();

/**
 * Encodes strings into a key column (UTF-8 blob + offsets). This costs a copy per key; sources
 * that already hold bytes should build the column directly.
 *
 * @example
 * const column = keyColumnFromStrings(["a", "bb"]); // keys "abb", offsets [0, 1, 3]
 */
export function keyColumnFromStrings(values: readonly string[]): KeyColumn {
  const offsets = new Uint32Array(values.length + 1);
  let capacity = 0;
  for (const value of values) capacity += value.length * 3;
  const keys = new Uint8Array(capacity);
  let position = 0;
  values.forEach((value, row) => {
    position += encoder.encodeInto(value, keys.subarray(position)).written;
    offsets[row + 1] = position;
  });
  return { keys: keys.subarray(0, position), offsets };
}

/**
 * Checks that `offsets` describes `keys` (starts at 0, never decreases, ends inside the blob),
 * with the same rules and codes as the native kernels.
 *
 * @example
 * validateKeyColumn({ keys: new Uint8Array(2), offsets: Uint32Array.of(0, 2) });
 */
export function validateKeyColumn(column: KeyColumn): void {
  const { keys, offsets } = column;
  if (offsets.length === 0) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_OFFSETS",
      "invalid offsets: offsets must hold rows + 1 entries (at least one)",
    );
  }
  if (offsets[0] !== 0) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_OFFSETS",
      `invalid offsets: offsets[0] must be 0, got ${offsets[0]}`,
    );
  }
  for (let row = 0; row + 1 < offsets.length; row++) {
    const from = offsets[row] as number;
    const to = offsets[row + 1] as number;
    if (to < from) {
      throw new SluiceError(
        "SLUICE_NATIVE_INVALID_OFFSETS",
        `invalid offsets: offsets decrease at row ${row}: ${from} > ${to}`,
      );
    }
  }
  const last = offsets[offsets.length - 1] as number;
  if (last > keys.length) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_OFFSETS",
      `invalid offsets: last offset ${last} is past the end of the ${keys.length}-byte blob`,
    );
  }
}
