import { isAscii, isUtf8 } from "node:buffer";
import { SluiceError } from "../errors/sluice-error.js";
import type { KeyColumn } from "./kernels.js";

/**
 * Encodes strings into a key column (UTF-8 blob + offsets), byte for byte as `TextEncoder` would
 * encode each one (a lone surrogate becomes U+FFFD). The strings are joined and encoded with one
 * native call; when the bytes are as many as the UTF-16 units, every string is ASCII and the
 * offsets follow from the strings' lengths, otherwise from each string's UTF-8 length. A string
 * holding a lone surrogate is made well formed first: joined, a lone high surrogate at the end of
 * one string and a lone low one at the start of the next would otherwise encode as one pair.
 *
 * @example
 * const column = keyColumnFromStrings(["a", "bb"]); // keys "abb", offsets [0, 1, 3]
 */
export function keyColumnFromStrings(values: readonly string[]): KeyColumn {
  const rows = values.length;
  let units = 0;
  for (let row = 0; row < rows; row++) units += (values[row] as string).length;
  // A joined string longer than V8's limit (2^29 - 24 units) cannot be made.
  if (units > MAX_JOINED_UNITS) return keyColumnFromStringsOneByOne(values);
  if (rows > ASCII_CHUNK_ROWS) {
    const ascii = asciiKeyColumn(values, units);
    if (ascii !== undefined) return ascii;
  }
  const offsets = new Uint32Array(rows + 1);
  let joined = values.join("");
  let bytes = Buffer.byteLength(joined, "utf8");
  if (bytes === joined.length) {
    let position = 0;
    for (let row = 0; row < rows; row++) {
      position += (values[row] as string).length;
      offsets[row + 1] = position;
    }
  } else {
    let repaired: string[] | undefined;
    let position = 0;
    for (let row = 0; row < rows; row++) {
      let value = values[row] as string;
      if (!(value as unknown as WellFormedString).isWellFormed()) {
        value = (value as unknown as WellFormedString).toWellFormed();
        repaired ??= values.slice();
        repaired[row] = value;
      }
      position += Buffer.byteLength(value, "utf8");
      offsets[row + 1] = position;
    }
    if (repaired !== undefined) {
      joined = repaired.join("");
      bytes = position;
    }
  }
  // Not from the shared pool: the column may outlive this call or be handed to another thread.
  const keys = Buffer.allocUnsafeSlow(bytes);
  keys.write(joined, 0, bytes, bytes === joined.length ? "latin1" : "utf8");
  return { keys: new Uint8Array(keys.buffer, keys.byteOffset, bytes), offsets };
}

const MAX_JOINED_UNITS = 1 << 28;

/**
 * Rows joined at a time when the strings are ASCII. Joining a few dozen kilobytes at a time and
 * writing each piece while it is in cache measured 2–3x faster than one join of megabytes (a
 * large-object allocation, written once and read once from memory).
 */
const ASCII_CHUNK_ROWS = 1024;

/**
 * `keyColumnFromStrings` for strings that are all ASCII (one byte per UTF-16 unit), joined and
 * written `ASCII_CHUNK_ROWS` at a time; `undefined` at the first piece holding anything else.
 */
function asciiKeyColumn(values: readonly string[], units: number): KeyColumn | undefined {
  const rows = values.length;
  // Not from the shared pool: the column may outlive this call or be handed to another thread.
  const keys = Buffer.allocUnsafeSlow(units);
  const offsets = new Uint32Array(rows + 1);
  let position = 0;
  for (let from = 0; from < rows; from += ASCII_CHUNK_ROWS) {
    const to = Math.min(rows, from + ASCII_CHUNK_ROWS);
    const joined = values.slice(from, to).join("");
    if (Buffer.byteLength(joined, "utf8") !== joined.length) return undefined;
    keys.write(joined, position, joined.length, "latin1");
    for (let row = from; row < to; row++) {
      position += (values[row] as string).length;
      offsets[row + 1] = position;
    }
  }
  return { keys: new Uint8Array(keys.buffer, keys.byteOffset, units), offsets };
}

/**
 * `keyColumnFromStrings` one string at a time (the same bytes): for inputs too large to join.
 *
 * @example
 * keyColumnFromStringsOneByOne(["a", "é"]); // keys "aé" (3 bytes), offsets [0, 1, 3]
 */
export function keyColumnFromStringsOneByOne(values: readonly string[]): KeyColumn {
  const offsets = new Uint32Array(values.length + 1);
  let capacity = 0;
  for (const value of values) capacity += value.length * 3;
  const keys = Buffer.allocUnsafeSlow(capacity);
  let position = 0;
  for (let row = 0; row < values.length; row++) {
    position += keys.write(values[row] as string, position, "utf8");
    offsets[row + 1] = position;
  }
  return { keys: new Uint8Array(keys.buffer, keys.byteOffset, position), offsets };
}

/** `String.prototype.isWellFormed` / `toWellFormed` (ES2024; Node 20 has them). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
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

// A byte order mark stays a character of its row: a key that starts with U+FEFF decodes to itself.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes every row of a key column to a JS string (invalid UTF-8 becomes U+FFFD, as
 * `TextDecoder` does). Creating strings is the expensive part of a result, so call this only on
 * results, never on a batch on its way to a kernel. An all-ASCII column is decoded once and
 * sliced, which is several times faster than decoding row by row.
 *
 * @example
 * decodeKeyColumn(keyColumnFromStrings(["a", "é"])); // ["a", "é"]
 */
export function decodeKeyColumn(column: KeyColumn): string[] {
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const rows = offsets.length - 1;
  const out = new Array<string>(rows);
  const used = keys.subarray(0, offsets[rows] as number);
  if (isAscii(used)) {
    const text = Buffer.from(used.buffer, used.byteOffset, used.byteLength).toString("latin1");
    for (let row = 0; row < rows; row++) {
      out[row] = text.slice(offsets[row] as number, offsets[row + 1] as number);
    }
    return out;
  }
  for (let row = 0; row < rows; row++) {
    out[row] = decoder.decode(keys.subarray(offsets[row] as number, offsets[row + 1] as number));
  }
  return out;
}

/**
 * `decodeKeyColumn`, each row's string handed with its row to `make` as it is decoded: one pass
 * and no array of strings in between (a column of results becomes its records this way). The
 * loops are `decodeKeyColumn`'s written again, not shared: with `decodeKeyColumn` calling this
 * with an identity maker, the makers' call site saw one more function and both took 10% longer.
 *
 * @example
 * decodeKeyColumnWith(column, (key, row) => [key, counts[row]]); // [["a", 2], ["é", 1]]
 */
export function decodeKeyColumnWith<T>(
  column: KeyColumn,
  make: (key: string, row: number) => T,
): T[] {
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const rows = offsets.length - 1;
  const out = new Array<T>(rows);
  const used = keys.subarray(0, offsets[rows] as number);
  if (isAscii(used)) {
    const text = Buffer.from(used.buffer, used.byteOffset, used.byteLength).toString("latin1");
    for (let row = 0; row < rows; row++) {
      out[row] = make(text.slice(offsets[row] as number, offsets[row + 1] as number), row);
    }
    return out;
  }
  for (let row = 0; row < rows; row++) {
    const key = decoder.decode(keys.subarray(offsets[row] as number, offsets[row + 1] as number));
    out[row] = make(key, row);
  }
  return out;
}

/**
 * Every row of the column decoded as `decodeKeyColumn` decodes it, handed with its row to
 * `visit` and kept nowhere: for a loop that reads each row once, so no array of the column's
 * strings lives through it.
 *
 * @example
 * forEachDecodedKey(column, (key) => counts.set(key, (counts.get(key) ?? 0) + 1));
 */
export function forEachDecodedKey(
  column: KeyColumn,
  visit: (key: string, row: number) => void,
): void {
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const rows = offsets.length - 1;
  const used = keys.subarray(0, offsets[rows] as number);
  if (isAscii(used)) {
    const text = Buffer.from(used.buffer, used.byteOffset, used.byteLength).toString("latin1");
    for (let row = 0; row < rows; row++) {
      visit(text.slice(offsets[row] as number, offsets[row + 1] as number), row);
    }
    return;
  }
  for (let row = 0; row < rows; row++) {
    visit(decoder.decode(keys.subarray(offsets[row] as number, offsets[row + 1] as number)), row);
  }
}

/**
 * True when every row of the column is well-formed UTF-8, so that two rows are the same string
 * exactly when they are the same bytes (invalid bytes would all decode to U+FFFD).
 *
 * @example
 * isUtf8Column(keyColumnFromStrings(["é"])); // true
 */
export function isUtf8Column(column: KeyColumn): boolean {
  const { keys, offsets } = column;
  const used = keys.subarray(0, offsets[offsets.length - 1] as number);
  // ASCII (the common case) has no multi-byte sequence to split.
  if (isAscii(used)) return true;
  // The blob being valid is not enough: a row ending mid-sequence followed by a row holding the
  // rest would pass as a whole. Such a row starts with a continuation byte, so check row starts.
  if (!isUtf8(used)) return false;
  for (let row = 1; row < offsets.length - 1; row++) {
    const at = offsets[row] as number;
    if (at < keys.length && ((keys[at] as number) & 0xc0) === 0x80) return false;
  }
  return true;
}

/**
 * The columns one after the other, as one column (one copy of the bytes).
 *
 * @example
 * concatKeyColumns([keyColumnFromStrings(["a"]), keyColumnFromStrings(["b"])]); // rows a, b
 */
export function concatKeyColumns(columns: readonly KeyColumn[]): KeyColumn {
  if (columns.length === 1) return columns[0] as KeyColumn;
  let rows = 0;
  let bytes = 0;
  for (const { offsets } of columns) {
    rows += offsets.length - 1;
    bytes += offsets[offsets.length - 1] as number;
  }
  const keys = new Uint8Array(bytes);
  const offsets = new Uint32Array(rows + 1);
  let row = 0;
  let position = 0;
  for (const column of columns) {
    const count = column.offsets.length - 1;
    const used = column.offsets[count] as number;
    keys.set(column.keys.subarray(0, used), position);
    for (let i = 1; i <= count; i++) offsets[row + i] = position + (column.offsets[i] as number);
    row += count;
    position += used;
  }
  return { keys, offsets };
}

/** Makes the memory a gathered column is written into (shared memory for executors' buckets). */
export type AllocateBuffer = (byteLength: number) => ArrayBuffer | SharedArrayBuffer;

const ordinaryMemory: AllocateBuffer = (byteLength) => new ArrayBuffer(byteLength);

/**
 * The rows `rows[from..to)` of a column, in that order (a partition of a shuffle's permutation),
 * in memory from `allocate` (ordinary memory by default).
 *
 * @example
 * gatherRows(column, Uint32Array.of(2, 0), 0, 2); // rows 2 and 0
 */
export function gatherRows(
  column: KeyColumn,
  rows: Uint32Array,
  from = 0,
  to = rows.length,
  allocate: AllocateBuffer = ordinaryMemory,
): KeyColumn {
  const { keys, offsets } = column;
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const row = rows[i] as number;
    bytes += (offsets[row + 1] as number) - (offsets[row] as number);
  }
  const out = new Uint8Array(allocate(bytes));
  const outOffsets = new Uint32Array(allocate((to - from + 1) * 4));
  let position = 0;
  for (let i = from; i < to; i++) {
    const row = rows[i] as number;
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    if (end - start < 16) {
      for (let b = start; b < end; b++) out[position++] = keys[b] as number;
    } else {
      out.set(keys.subarray(start, end), position);
      position += end - start;
    }
    outOffsets[i - from + 1] = position;
  }
  return { keys: out, offsets: outOffsets };
}

/**
 * The values of rows `rows[from..to)`, in that order, in memory from `allocate`.
 *
 * @example
 * gatherValues(Float64Array.of(1, 2, 3), Uint32Array.of(2, 0)); // Float64Array [3, 1]
 */
export function gatherValues(
  values: Float64Array,
  rows: Uint32Array,
  from = 0,
  to = rows.length,
  allocate: AllocateBuffer = ordinaryMemory,
): Float64Array {
  const out = new Float64Array(allocate((to - from) * 8));
  for (let i = from; i < to; i++) out[i - from] = values[rows[i] as number] as number;
  return out;
}

/**
 * The numbers of the valid rows (`valid[row] === 1`) of a parser's output, in order, or
 * `undefined` when every row is valid (nothing to drop).
 *
 * @example
 * validRowNumbers(Uint8Array.of(1, 0, 1)); // Uint32Array [0, 2]
 */
export function validRowNumbers(valid: Uint8Array): Uint32Array | undefined {
  let count = 0;
  for (let row = 0; row < valid.length; row++) count += valid[row] === 1 ? 1 : 0;
  if (count === valid.length) return undefined;
  const rows = new Uint32Array(count);
  let at = 0;
  for (let row = 0; row < valid.length; row++) if (valid[row] === 1) rows[at++] = row;
  return rows;
}

/**
 * Packs byte values (such as message values, already `Uint8Array`s) into one key column with a
 * single copy of each value and no strings. Values that lie back to back in one buffer (slices
 * of one read) become a view of it instead, with no copy.
 *
 * @example
 * keyColumnFromBuffers([Buffer.from("a b"), Buffer.from("c")]); // keys "a bc", offsets [0, 3, 4]
 */
export function keyColumnFromBuffers(values: readonly Uint8Array[]): KeyColumn {
  const offsets = new Uint32Array(values.length + 1);
  let total = 0;
  let adjacent = values.length > 0;
  const first = values[0];
  for (let row = 0; row < values.length; row++) {
    const value = values[row] as Uint8Array;
    if (
      adjacent &&
      (value.buffer !== first?.buffer || value.byteOffset !== first.byteOffset + total)
    ) {
      adjacent = false;
    }
    total += value.length;
    offsets[row + 1] = total;
  }
  if (adjacent && first !== undefined) {
    return { keys: new Uint8Array(first.buffer, first.byteOffset, total), offsets };
  }
  // Not zero-filled first: every byte is written below.
  const bytes = Buffer.allocUnsafeSlow(total);
  const keys = new Uint8Array(bytes.buffer, bytes.byteOffset, total);
  for (let row = 0; row < values.length; row++)
    keys.set(values[row] as Uint8Array, offsets[row] as number);
  return { keys, offsets };
}
