const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;
const encoder = new TextEncoder();

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

/** Finds where records end, chunk after chunk, remembering what it saw across chunks. */
export interface RecordScanner {
  /** Index of the newline that ends the current record in `chunk[from..]`, or -1 if none. */
  scan(chunk: Uint8Array, from: number): number;
  /** True when the bytes scanned since the last record end leave a quote open (CSV). */
  readonly inQuotes: boolean;
}

/**
 * A scanner for newline-terminated lines.
 *
 * @example
 * lineScanner().scan(new TextEncoder().encode("a\nb"), 0); // 1
 */
export function lineScanner(): RecordScanner {
  return { scan: (chunk, from) => chunk.indexOf(NEWLINE, from), inQuotes: false };
}

// Where a CSV scanner stands within the current record.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted field: the closing one, or the first of an escaped `""`. */
const QUOTE_IN_QUOTED = 3;

/**
 * A scanner for CSV records (RFC 4180): a newline inside a quoted field belongs to the field. A
 * quote opens a quoted field only at the start of a field; anywhere else it is a character of
 * its field, so a stray quote (`10,ab"c,1`) never runs on into the rows after it.
 *
 * @example
 * csvScanner(",").scan(new TextEncoder().encode('a,"b\nc"\nd'), 0); // 7
 */
export function csvScanner(delimiter: string): RecordScanner {
  // The delimiter is one character, but may be several bytes in UTF-8. A UTF-8 lead byte never
  // occurs inside another character, so restarting the match on a mismatch is exact.
  const separator = encoder.encode(delimiter);
  const last = separator.length - 1;
  let state = FIELD_START;
  let matched = 0;
  return {
    get inQuotes() {
      return state === QUOTED;
    },
    scan(chunk, from) {
      for (let index = from; index < chunk.length; index++) {
        const byte = chunk[index] as number;
        if (state === QUOTED) {
          if (byte === QUOTE) state = QUOTE_IN_QUOTED;
          continue;
        }
        if (state === QUOTE_IN_QUOTED && byte === QUOTE) {
          state = QUOTED; // an escaped quote
          continue;
        }
        if (byte === NEWLINE) {
          state = FIELD_START;
          matched = 0;
          return index;
        }
        if (byte === separator[matched]) matched++;
        else matched = byte === separator[0] ? 1 : 0;
        if (matched > last) {
          matched = 0;
          state = FIELD_START;
        } else if (state === FIELD_START && byte === QUOTE && matched === 0) {
          state = QUOTED;
        } else {
          // Text after a closing quote makes the row malformed (parseCsvFields says so); a
          // quote in it, as in any unquoted field, is an ordinary character.
          state = UNQUOTED;
        }
      }
      return -1;
    },
  };
}

/**
 * Splits a chunk into newline-terminated records (a trailing `\r` is dropped). A last record
 * without a newline counts only at end of file (`eof`); before that it may continue in the next chunk.
 *
 * @example
 * splitLines(new TextEncoder().encode("a\nb"), true).length; // 2
 */
export function splitLines(chunk: Uint8Array, eof: boolean): RawRecord[] {
  return split(chunk, eof, lineScanner());
}

/**
 * Splits a chunk that starts at a record boundary into CSV records (see `csvScanner`). At end
 * of file, a tail that opens a quote and never closes it is returned as a malformed record.
 *
 * @example
 * splitCsvRecords(new TextEncoder().encode('a,"b\nc"\n'), true, ",").length; // 1
 */
export function splitCsvRecords(chunk: Uint8Array, eof: boolean, delimiter: string): RawRecord[] {
  return split(chunk, eof, csvScanner(delimiter));
}

function split(chunk: Uint8Array, eof: boolean, scanner: RecordScanner): RawRecord[] {
  const records: RawRecord[] = [];
  let start = 0;
  for (let index = scanner.scan(chunk, 0); index !== -1; index = scanner.scan(chunk, start)) {
    records.push({ start, end: index + 1, bytes: withoutCarriageReturn(chunk, start, index) });
    start = index + 1;
  }
  if (eof && start < chunk.length) {
    records.push({
      start,
      end: chunk.length,
      bytes: withoutCarriageReturn(chunk, start, chunk.length),
      ...(scanner.inQuotes ? { malformed: "opens a quote that is never closed" } : {}),
    });
  }
  return records;
}

/**
 * Parses one CSV record (RFC 4180: `"` at the start of a field quotes it, `""` is a quote inside
 * one; a quote elsewhere in an unquoted field is an ordinary character). Returns `undefined`
 * when a quoted field is followed by anything but the delimiter.
 *
 * @example
 * parseCsvFields('a,"b,c","""",d"e', ","); // ["a", "b,c", '"', 'd"e']
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

/**
 * CSV header names made unique: a repeated name gets `_2`, `_3`, ... (the first suffix no other
 * column has), so no value of a row is lost to a key it shares. Also returns what was renamed.
 *
 * @example
 * uniqueColumnNames(["id", "id", "score"]).columns; // ["id", "id_2", "score"]
 */
export function uniqueColumnNames(names: readonly string[]): {
  columns: string[];
  renamed: { from: string; to: string; column: number }[];
} {
  const taken = new Set(names);
  const seen = new Set<string>();
  const renamed: { from: string; to: string; column: number }[] = [];
  const columns = names.map((name, index) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let suffix = 2;
    while (taken.has(`${name}_${suffix}`)) suffix++;
    const unique = `${name}_${suffix}`;
    taken.add(unique);
    seen.add(unique);
    renamed.push({ from: name, to: unique, column: index + 1 });
    return unique;
  });
  return { columns, renamed };
}

function withoutCarriageReturn(chunk: Uint8Array, start: number, end: number): Uint8Array {
  const stop = end > start && chunk[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
  return chunk.slice(start, stop);
}
