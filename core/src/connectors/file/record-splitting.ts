const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;

/** One record found in a chunk of a file: its bytes (without the line ending) and its extent. */
export interface RawRecord {
  /** Offset of the first byte, relative to the chunk. */
  readonly start: number;
  /** Offset just past the line ending, relative to the chunk: where the next record starts. */
  readonly end: number;
  readonly bytes: Uint8Array;
  /** Why the record cannot be parsed, when the splitter already knows. */
  readonly malformed?: string;
}

/**
 * Splits a chunk into newline-terminated records (a trailing `\r` is dropped). A last record
 * without a newline counts only at end of file (`eof`); before that it may continue in the next chunk.
 *
 * @example
 * splitLines(new TextEncoder().encode("a\nb"), true).length; // 2
 */
export function splitLines(chunk: Uint8Array, eof: boolean): RawRecord[] {
  const records: RawRecord[] = [];
  let start = 0;
  for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
    records.push({ start, end: index + 1, bytes: withoutCarriageReturn(chunk, start, index) });
    start = index + 1;
  }
  if (eof && start < chunk.length) {
    records.push({
      start,
      end: chunk.length,
      bytes: withoutCarriageReturn(chunk, start, chunk.length),
    });
  }
  return records;
}

/**
 * Splits a chunk into CSV records: newlines inside double quotes belong to the field. At end
 * of file, a tail that opens a quote and never closes it is returned as a malformed record.
 *
 * @example
 * splitCsvRecords(new TextEncoder().encode('a,"b\nc"\n'), true).length; // 1
 */
export function splitCsvRecords(chunk: Uint8Array, eof: boolean): RawRecord[] {
  const records: RawRecord[] = [];
  let start = 0;
  let quoted = false;
  for (let index = 0; index < chunk.length; index++) {
    const byte = chunk[index];
    if (byte === QUOTE) quoted = !quoted;
    else if (byte === NEWLINE && !quoted) {
      records.push({ start, end: index + 1, bytes: withoutCarriageReturn(chunk, start, index) });
      start = index + 1;
    }
  }
  if (eof && start < chunk.length) {
    const bytes = withoutCarriageReturn(chunk, start, chunk.length);
    records.push({
      start,
      end: chunk.length,
      bytes,
      ...(quoted ? { malformed: "opens a quote that is never closed" } : {}),
    });
  }
  return records;
}

/**
 * Parses one CSV record (RFC 4180: `"` quotes a field, `""` is a quote inside one).
 * Returns `undefined` when a quoted field is followed by anything but the delimiter.
 *
 * @example
 * parseCsvFields('a,"b,c",""""', ","); // ["a", "b,c", '"']
 */
export function parseCsvFields(text: string, delimiter: string): string[] | undefined {
  const fields: string[] = [];
  let index = 0;
  for (;;) {
    let field = "";
    if (text[index] === '"') {
      index++;
      for (;;) {
        if (index >= text.length) return undefined;
        const char = text[index] as string;
        if (char === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        field += char;
        index++;
      }
      if (index < text.length && text[index] !== delimiter) return undefined;
    } else {
      const next = text.indexOf(delimiter, index);
      const stop = next === -1 ? text.length : next;
      field = text.slice(index, stop);
      index = stop;
    }
    fields.push(field);
    if (index >= text.length) return fields;
    index++; // past the delimiter
  }
}

function withoutCarriageReturn(chunk: Uint8Array, start: number, end: number): Uint8Array {
  const stop = end > start && chunk[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
  return chunk.slice(start, stop);
}
