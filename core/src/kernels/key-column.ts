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

const decoder = new TextDecoder();

/**
 * Decodes every row of a key column to a JS string. Creating strings is the expensive part of
 * a result, so call this only on results, never on a batch on its way to a kernel.
 *
 * @example
 * decodeKeyColumn(keyColumnFromStrings(["a", "é"])); // ["a", "é"]
 */
export function decodeKeyColumn(column: KeyColumn): string[] {
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const out = new Array<string>(offsets.length - 1);
  for (let row = 0; row < out.length; row++) {
    out[row] = decoder.decode(keys.subarray(offsets[row] as number, offsets[row + 1] as number));
  }
  return out;
}

/**
 * Packs byte values (such as message values, already `Uint8Array`s) into one key column with a
 * single copy of each value and no strings.
 *
 * @example
 * keyColumnFromBuffers([Buffer.from("a b"), Buffer.from("c")]); // keys "a bc", offsets [0, 3, 4]
 */
export function keyColumnFromBuffers(values: readonly Uint8Array[]): KeyColumn {
  const offsets = new Uint32Array(values.length + 1);
  let total = 0;
  for (let row = 0; row < values.length; row++) {
    total += (values[row] as Uint8Array).length;
    offsets[row + 1] = total;
  }
  const keys = new Uint8Array(total);
  for (let row = 0; row < values.length; row++)
    keys.set(values[row] as Uint8Array, offsets[row] as number);
  return { keys, offsets };
}
