import {
  type ColumnHeaders,
  type ColumnKeys,
  type ColumnOffsets,
  SourceRecordColumns,
} from "./record-columns.js";
import type { RecordHeaders } from "./records.js";

/**
 * Collects the messages of one read, as a source receives them, and makes them one byte batch:
 * values and keys each copied once into a blob of their own (a `Buffer`), offsets kept as numbers (a run of
 * consecutive integers when they are one), each row's partition only when there are several,
 * and headers made on demand from what `add` was given (through `toHeaders`), so that reading
 * only the values never makes them.
 *
 * @example
 * const builder = new SourceRecordColumnsBuilder((raw: MessageHeaders) => recordHeaders(raw));
 * for (const message of messages) {
 *   builder.add("orders-0", message.value, message.key, message.timestamp, message.offset + 1, message.headers);
 * }
 * return readColumnsResult(builder.build(), settle);
 */
export class SourceRecordColumnsBuilder<H = RecordHeaders> {
  readonly #toHeaders: ((raw: H) => RecordHeaders | undefined) | undefined;
  readonly #values: Uint8Array[] = [];
  readonly #keys: (Uint8Array | undefined)[] = [];
  readonly #times: number[] = [];
  readonly #offsets: (number | string)[] = [];
  readonly #headers: (H | undefined)[] = [];
  readonly #names: string[] = [];
  readonly #nameIndex = new Map<string, number>();
  readonly #ofRow: number[] = [];
  #lastName: string | undefined;
  #lastIndex = 0;
  #valueBytes = 0;
  #keyBytes = 0;
  #anyKey = false;
  #anyKeyMissing = false;
  #anyHeaders = false;
  #allNumbers = true;
  readonly #tombstoneRows: number[] = [];

  /**
   * @param toHeaders makes a row's record headers from what `add` was given, when a record is
   *   asked for; without it, `add` is given the record headers themselves.
   */
  constructor(toHeaders?: (raw: H) => RecordHeaders | undefined) {
    this.#toHeaders = toHeaders;
  }

  /** Rows added. */
  get length(): number {
    return this.#values.length;
  }

  /**
   * Adds one row. `value` `null`: the row has no value at all (a tombstone); `key` `undefined`
   * or `null`: the row has no key; `offset` a number when it is one (a safe integer), else its
   * string; `headers` `undefined`: none.
   */
  add(
    partition: string,
    value: Uint8Array | null,
    key: Uint8Array | null | undefined,
    timestampMs: number,
    offset: number | string,
    headers?: H,
  ): void {
    let index = this.#lastIndex;
    if (partition !== this.#lastName) {
      const known = this.#nameIndex.get(partition);
      if (known === undefined) {
        index = this.#names.length;
        this.#names.push(partition);
        this.#nameIndex.set(partition, index);
      } else {
        index = known;
      }
      this.#lastName = partition;
      this.#lastIndex = index;
    }
    this.#ofRow.push(index);
    if (value === null) {
      this.#tombstoneRows.push(this.#values.length);
      this.#values.push(NO_VALUE);
    } else {
      this.#values.push(value);
      this.#valueBytes += value.byteLength;
    }
    if (key === undefined || key === null) {
      this.#keys.push(undefined);
      this.#anyKeyMissing = true;
    } else {
      this.#keys.push(key);
      this.#keyBytes += key.byteLength;
      this.#anyKey = true;
    }
    this.#times.push(timestampMs);
    if (typeof offset !== "number") this.#allNumbers = false;
    this.#offsets.push(offset);
    this.#headers.push(headers);
    if (headers !== undefined) this.#anyHeaders = true;
  }

  /** The rows added, as one byte batch (`undefined` when none were). */
  build(): SourceRecordColumns | undefined {
    const rows = this.#values.length;
    if (rows === 0) return undefined;
    const bytes = concatenated(this.#values, this.#valueBytes);
    const valueOffsets = new Uint32Array(rows + 1);
    let at = 0;
    for (let row = 0; row < rows; row++) {
      at += (this.#values[row] as Uint8Array).byteLength;
      valueOffsets[row + 1] = at;
    }
    const partitions =
      this.#names.length > 1
        ? { partitions: { names: this.#names, ofRow: new Uint32Array(this.#ofRow) } }
        : {};
    const keys = this.#anyKey ? { keys: this.#keyColumn() } : {};
    const headers = this.#anyHeaders ? { headers: this.#headerColumn() } : {};
    const tombstones =
      this.#tombstoneRows.length === 0 ? {} : { tombstones: bitmapOf(this.#tombstoneRows, rows) };
    return new SourceRecordColumns({
      partition: this.#names[0] as string,
      bytes,
      valueOffsets,
      timestampMs: new Float64Array(this.#times),
      offsets: this.#offsetColumn(),
      ...keys,
      ...headers,
      ...partitions,
      ...tombstones,
    });
  }

  #keyColumn(): ColumnKeys {
    const rows = this.#keys.length;
    const bytes = blob(this.#keyBytes);
    const offsets = new Uint32Array(rows + 1);
    const present = this.#anyKeyMissing ? new Uint8Array((rows + 7) >> 3) : undefined;
    let at = 0;
    for (let row = 0; row < rows; row++) {
      const key = this.#keys[row];
      if (key !== undefined) {
        copyInto(bytes, key, at);
        at += key.byteLength;
        if (present !== undefined)
          present[row >> 3] = (present[row >> 3] as number) | (1 << (row & 7));
      }
      offsets[row + 1] = at;
    }
    return present === undefined ? { bytes, offsets } : { bytes, offsets, present };
  }

  #offsetColumn(): ColumnOffsets {
    const offsets = this.#offsets;
    if (!this.#allNumbers) return { kind: "list", offsets: offsets.map(String) };
    const numbers = offsets as number[];
    const first = numbers[0] as number;
    let consecutive = this.#names.length === 1 && Number.isSafeInteger(first);
    for (let row = 1; consecutive && row < numbers.length; row++) {
      consecutive = numbers[row] === first + row;
    }
    return consecutive
      ? { kind: "sequence", first }
      : { kind: "positions", positions: new Float64Array(numbers) };
  }

  #headerColumn(): ColumnHeaders {
    const raw = this.#headers;
    const toHeaders = this.#toHeaders;
    if (toHeaders === undefined) {
      return { kind: "list", headers: raw as unknown as (RecordHeaders | undefined)[] };
    }
    return {
      kind: "lazy",
      at: (row) => {
        const headers = raw[row];
        return headers === undefined ? undefined : toHeaders(headers);
      },
    };
  }
}

const NO_VALUE = new Uint8Array(0);

// A bitmap of `rows` bits with those of `set` on.
function bitmapOf(set: readonly number[], rows: number): Uint8Array {
  const bits = new Uint8Array((rows + 7) >> 3);
  for (const row of set) bits[row >> 3] = (bits[row >> 3] as number) | (1 << (row & 7));
  return bits;
}

// Below this many bytes a copy byte by byte is quicker than a call into the engine's memcpy.
const SMALL_COPY = 16;

function copyInto(target: Uint8Array, source: Uint8Array, at: number): void {
  const length = source.byteLength;
  if (length >= SMALL_COPY) {
    target.set(source, at);
    return;
  }
  for (let index = 0; index < length; index++) target[at + index] = source[index] as number;
}

// Every part back to back in a blob of its own (Buffer.concat's native copy, measured quicker
// than one set() per part, for blobs past the size Buffer takes from its shared pool).
function concatenated(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (size >= Buffer.poolSize >>> 1) return Buffer.concat(parts, size);
  const bytes = blob(size);
  let at = 0;
  for (const part of parts) {
    copyInto(bytes, part, at);
    at += part.byteLength;
  }
  return bytes;
}

// A Buffer, as the clients the sources use give values and keys (so `toString()` on a record's
// value still decodes it), in memory of its own (not the shared pool: a slice of a batch must
// not pin it, and the log writes the blob as it is). Every byte is written by `build`.
function blob(size: number): Uint8Array {
  return Buffer.allocUnsafeSlow(size);
}
