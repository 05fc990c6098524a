import { SluiceError } from "../errors/sluice-error.js";
import { ColumnBuilder } from "./column-builder.js";
import type { KeyColumn, ParsedColumn, ParsedNumbers } from "./kernels.js";
import { validateKeyColumn } from "./key-column.js";

// The byte parsers in TypeScript: twins of the engine's `parse` module, with the same rules
// (documented there and in docs/kernels.md). Everything works on bytes; no string is made
// except the short ASCII span handed to `Number()` for a JSON number.

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** 1 for the bytes that separate words: ASCII space, `\t`, `\n`, `\v`, `\f`, `\r`. */
export const WHITESPACE = new Uint8Array(256);
for (const byte of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) WHITESPACE[byte] = 1;

/**
 * The first position of `byte` in `bytes[start..end)`, or `end` (never looks past `end`).
 *
 * @example
 * indexOfIn(bytes, 0x0a, 0, bytes.length); // the first newline
 */
export function indexOfIn(bytes: Uint8Array, byte: number, start: number, end: number): number {
  let i = start;
  while (i < end && bytes[i] !== byte) i++;
  return i;
}

function spanOf(values: KeyColumn): number {
  const { offsets } = values;
  return (offsets[offsets.length - 1] as number) - (offsets[0] as number);
}

/**
 * Splits every value into lines (`\n`, with one `\r` before it dropped).
 *
 * @example
 * splitLinesJs(keyColumnFromStrings(["a\r\nb\n"])); // rows "a", "b"
 */
export function splitLinesJs(values: KeyColumn): KeyColumn {
  validateKeyColumn(values);
  const { keys, offsets } = values;
  const out = new ColumnBuilder(offsets.length - 1, spanOf(values));
  for (let row = 0; row + 1 < offsets.length; row++) {
    const end = offsets[row + 1] as number;
    let start = offsets[row] as number;
    while (start < end) {
      const at = indexOfIn(keys, NL, start, end);
      const lineEnd = at > start && keys[at - 1] === CR ? at - 1 : at;
      out.append(keys, start, lineEnd);
      out.endRow();
      start = at + 1;
    }
  }
  return out.finish();
}

/**
 * Splits every value into words separated by ASCII whitespace.
 *
 * @example
 * splitWordsJs(keyColumnFromStrings(["to be\tor"])); // rows "to", "be", "or"
 */
export function splitWordsJs(values: KeyColumn): KeyColumn {
  validateKeyColumn(values);
  const { keys, offsets } = values;
  const out = new ColumnBuilder((offsets.length - 1) * 4, spanOf(values));
  for (let row = 0; row + 1 < offsets.length; row++) {
    const end = offsets[row + 1] as number;
    let i = offsets[row] as number;
    while (i < end) {
      while (i < end && WHITESPACE[keys[i] as number] === 1) i++;
      const start = i;
      while (i < end && WHITESPACE[keys[i] as number] === 0) i++;
      if (i > start) {
        out.append(keys, start, i);
        out.endRow();
      }
    }
  }
  return out.finish();
}

/**
 * Field `index` of every value read as one CSV record.
 *
 * @example
 * csvColumnJs(keyColumnFromStrings(['a,"b,c"']), 1, ","); // row "b,c", valid 1
 */
export function csvColumnJs(values: KeyColumn, index: number, delimiter: string): ParsedColumn {
  validateKeyColumn(values);
  const delimiterByte = checkCsvArguments(index, delimiter);
  const { keys, offsets } = values;
  const rows = offsets.length - 1;
  const out = new ColumnBuilder(rows, spanOf(values) >>> 2);
  const valid = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    const found = csvRecordField(
      keys,
      offsets[row] as number,
      offsets[row + 1] as number,
      index,
      delimiterByte,
      out,
    );
    valid[row] = found ? 1 : 0;
    out.endRow();
  }
  return { ...out.finish(), valid };
}

/**
 * Appends field `index` of the CSV record `bytes[start..end)` (one trailing `\n` or `\r\n`
 * ignored) to `out`; false (nothing appended) when the record has too few fields.
 *
 * @example
 * csvRecordField(bytes, 0, bytes.length, 1, 0x2c, builder); // true, field 1 appended
 */
export function csvRecordField(
  keys: Uint8Array,
  start: number,
  end: number,
  index: number,
  delimiter: number,
  out: ColumnBuilder,
): boolean {
  let n = end;
  if (n > start && keys[n - 1] === NL) n--;
  if (n > start && keys[n - 1] === CR) n--;
  return csvField(keys, start, n, index, delimiter, out);
}

/** Checks the CSV arguments the way the engine does and returns the delimiter byte. */
export function checkCsvArguments(index: number, delimiter: string): number {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`index\`: must be an integer from 0 to 2^32 - 1, got ${index}`,
    );
  }
  const byte = delimiter.length === 1 ? delimiter.charCodeAt(0) : -1;
  if (byte < 0 || byte >= 0x80 || byte === QUOTE || byte === NL || byte === CR) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      "invalid argument `delimiter`: must be one ASCII character other than a quote, \\r or \\n",
    );
  }
  return byte;
}

function csvField(
  bytes: Uint8Array,
  start: number,
  n: number,
  index: number,
  delimiter: number,
  out: ColumnBuilder,
): boolean {
  let field = 0;
  let i = start;
  for (;;) {
    const wanted = field === index;
    if (i < n && bytes[i] === QUOTE) {
      i++;
      for (;;) {
        const at = indexOfIn(bytes, QUOTE, i, n);
        if (at === n) {
          if (wanted) out.append(bytes, i, n);
          i = n;
          break;
        }
        if (wanted) out.append(bytes, i, at);
        i = at + 1;
        if (i < n && bytes[i] === QUOTE) {
          if (wanted) out.appendByte(QUOTE);
          i++;
        } else {
          break;
        }
      }
    }
    const end = indexOfIn(bytes, delimiter, i, n);
    if (wanted) {
      out.append(bytes, i, end);
      return true;
    }
    if (end === n) return false;
    i = end + 1;
    field++;
  }
}

/**
 * The number in member `field` of every value read as a JSON object (NaN and valid 0 where
 * missing or not a number).
 *
 * @example
 * jsonNumberFieldJs(keyColumnFromStrings(['{"n": 2}']), "n"); // values [2], valid [1]
 */
export function jsonNumberFieldJs(values: KeyColumn, field: string): ParsedNumbers {
  validateKeyColumn(values);
  const name = encoder.encode(field);
  const { keys, offsets } = values;
  const rows = offsets.length - 1;
  const numbers = new Float64Array(rows);
  const valid = new Uint8Array(rows);
  const scratch = new ColumnBuilder(1, 64);
  for (let row = 0; row < rows; row++) {
    const end = offsets[row + 1] as number;
    const at = findMember(keys, offsets[row] as number, end, name, scratch);
    const number = at === -1 ? Number.NaN : parseJsonNumber(keys, at, end);
    numbers[row] = number;
    valid[row] = at !== -1 && !Number.isNaN(number) ? 1 : 0;
  }
  return { values: numbers, valid };
}

/**
 * The string in member `field` of every value read as a JSON object, unescaped (empty row and
 * valid 0 where missing or not a string).
 *
 * @example
 * jsonStringFieldJs(keyColumnFromStrings(['{"s": "x"}']), "s"); // row "x", valid [1]
 */
export function jsonStringFieldJs(values: KeyColumn, field: string): ParsedColumn {
  validateKeyColumn(values);
  const name = encoder.encode(field);
  const { keys, offsets } = values;
  const rows = offsets.length - 1;
  const out = new ColumnBuilder(rows, spanOf(values) >>> 2);
  const valid = new Uint8Array(rows);
  const scratch = new ColumnBuilder(1, 64);
  for (let row = 0; row < rows; row++) {
    const found = jsonStringMember(
      keys,
      offsets[row] as number,
      offsets[row + 1] as number,
      name,
      scratch,
      out,
    );
    valid[row] = found ? 1 : 0;
    out.endRow();
  }
  return { ...out.finish(), valid };
}

/**
 * Appends the unescaped string of the first top-level member named `name` (UTF-8) of the JSON
 * object `bytes[start..end)` to `out`; false (nothing appended) when it is missing, not a
 * string, or malformed. `scratch` holds unescaped member names.
 *
 * @example
 * jsonStringMember(bytes, 0, bytes.length, encoder.encode("s"), scratch, builder);
 */
export function jsonStringMember(
  keys: Uint8Array,
  start: number,
  end: number,
  name: Uint8Array,
  scratch: ColumnBuilder,
  out: ColumnBuilder,
): boolean {
  const at = findMember(keys, start, end, name, scratch);
  const mark = out.byteLength;
  if (at !== -1 && keys[at] === QUOTE && unescapeString(keys, at + 1, end, out) !== -1) return true;
  out.truncate(mark);
  return false;
}

const encoder = new TextEncoder();

function skipWs(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b !== 0x20 && b !== 0x09 && b !== NL && b !== CR) break;
    i++;
  }
  return i;
}

/** Position of the value of the first top-level member named `name`, or -1. */
function findMember(
  bytes: Uint8Array,
  start: number,
  end: number,
  name: Uint8Array,
  scratch: ColumnBuilder,
): number {
  let i = skipWs(bytes, start, end);
  if (i >= end || bytes[i] !== 0x7b) return -1;
  i++;
  for (;;) {
    i = skipWs(bytes, i, end);
    if (i >= end || bytes[i] !== QUOTE) return -1;
    const keyStart = i + 1;
    const keyEnd = stringEnd(bytes, keyStart, end);
    if (keyEnd === -1) return -1;
    let matches: boolean;
    const raw = bytes.subarray(keyStart, keyEnd);
    if (raw.indexOf(BACKSLASH) === -1) {
      matches = sameBytes(raw, name);
    } else {
      scratch.truncate(0);
      if (unescapeString(bytes, keyStart, end, scratch) === -1) return -1;
      matches = sameBytes(scratch.finish().keys, name);
    }
    i = skipWs(bytes, keyEnd + 1, end);
    if (i >= end || bytes[i] !== 0x3a) return -1;
    i = skipWs(bytes, i + 1, end);
    if (i >= end) return -1;
    if (matches) return i;
    i = skipValue(bytes, i, end);
    if (i === -1) return -1;
    i = skipWs(bytes, i, end);
    if (i >= end || bytes[i] !== 0x2c) return -1;
    i++;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Position of the closing quote of the string whose content starts at `start`, or -1. */
function stringEnd(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b === QUOTE) return i;
    i += b === BACKSLASH ? 2 : 1;
  }
  return -1;
}

function isValueEnd(b: number): boolean {
  return b === 0x2c || b === 0x7d || b === 0x5d || b === 0x20 || b === 0x09 || b === NL || b === CR;
}

/** Position just after the value starting at `start`, or -1. */
function skipValue(bytes: Uint8Array, start: number, end: number): number {
  const first = bytes[start] as number;
  if (first === QUOTE) {
    const close = stringEnd(bytes, start + 1, end);
    return close === -1 ? -1 : close + 1;
  }
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let j = start; j < end; j++) {
      const b = bytes[j] as number;
      if (b === QUOTE) {
        j = stringEnd(bytes, j + 1, end);
        if (j === -1) return -1;
      } else if (b === 0x7b || b === 0x5b) {
        depth++;
      } else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = start;
  while (j < end && !isValueEnd(bytes[j] as number)) j++;
  return j;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** Parses a JSON number at `start` (followed by a delimiter or the end), NaN when malformed. */
function parseJsonNumber(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  if (i < end && bytes[i] === 0x2d) i++;
  const intStart = i;
  while (i < end && isDigit(bytes[i])) i++;
  const intLength = i - intStart;
  if (intLength === 0 || (intLength > 1 && bytes[intStart] === 0x30)) return Number.NaN;
  if (i < end && bytes[i] === 0x2e) {
    i++;
    const from = i;
    while (i < end && isDigit(bytes[i])) i++;
    if (i === from) return Number.NaN;
  }
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
    i++;
    if (i < end && (bytes[i] === 0x2b || bytes[i] === 0x2d)) i++;
    const from = i;
    while (i < end && isDigit(bytes[i])) i++;
    if (i === from) return Number.NaN;
  }
  if (i < end && !isValueEnd(bytes[i] as number)) return Number.NaN;
  // The span is ASCII; Number() rounds correctly, as Rust's parse::<f64> does.
  return Number(String.fromCharCode.apply(null, bytes.subarray(start, i) as unknown as number[]));
}

function hex4(bytes: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  let value = 0;
  for (let k = 0; k < 4; k++) {
    const b = bytes[at + k] as number;
    const digit =
      b >= 0x30 && b <= 0x39
        ? b - 0x30
        : b >= 0x61 && b <= 0x66
          ? b - 0x57
          : b >= 0x41 && b <= 0x46
            ? b - 0x37
            : -1;
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

const SIMPLE_ESCAPES = new Int16Array(256).fill(-1);
for (const [escapeLetter, byte] of [
  [0x22, 0x22],
  [0x5c, 0x5c],
  [0x2f, 0x2f],
  [0x62, 0x08],
  [0x66, 0x0c],
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
] as const) {
  SIMPLE_ESCAPES[escapeLetter] = byte;
}

/** Unescapes the string whose content starts at `start` into `out`; -1 when malformed. */
function unescapeString(bytes: Uint8Array, start: number, end: number, out: ColumnBuilder): number {
  let i = start;
  for (;;) {
    let at = i;
    while (at < end && bytes[at] !== QUOTE && bytes[at] !== BACKSLASH) at++;
    if (at >= end) return -1;
    out.append(bytes, i, at);
    if (bytes[at] === QUOTE) return at;
    if (at + 1 >= end) return -1;
    const letter = bytes[at + 1] as number;
    i = at + 2;
    if (letter !== 0x75) {
      const simple = SIMPLE_ESCAPES[letter] as number;
      if (simple === -1) return -1;
      out.appendByte(simple);
      continue;
    }
    const unit = hex4(bytes, i, end);
    if (unit === -1) return -1;
    i += 4;
    let code = unit;
    if (
      unit >= 0xd800 &&
      unit < 0xdc00 &&
      bytes[i] === BACKSLASH &&
      bytes[i + 1] === 0x75 &&
      i + 1 < end
    ) {
      const low = hex4(bytes, i + 2, end);
      if (low >= 0xdc00 && low < 0xe000) {
        i += 6;
        code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      } else {
        code = 0xfffd;
      }
    } else if (unit >= 0xd800 && unit < 0xe000) {
      code = 0xfffd;
    }
    appendUtf8(out, code);
  }
}

function appendUtf8(out: ColumnBuilder, code: number): void {
  if (code < 0x80) {
    out.appendByte(code);
  } else if (code < 0x800) {
    out.appendByte(0xc0 | (code >> 6));
    out.appendByte(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out.appendByte(0xe0 | (code >> 12));
    out.appendByte(0x80 | ((code >> 6) & 0x3f));
    out.appendByte(0x80 | (code & 0x3f));
  } else {
    out.appendByte(0xf0 | (code >> 18));
    out.appendByte(0x80 | ((code >> 12) & 0x3f));
    out.appendByte(0x80 | ((code >> 6) & 0x3f));
    out.appendByte(0x80 | (code & 0x3f));
  }
}
