import type { RecordHeaders, SourceRecord } from "./records.js";

const NO_HEADERS: RecordHeaders = Object.freeze({});

/**
 * Where each row's offset comes from: a run of consecutive integers, one number per row (such
 * as the byte position after a line of a file, or a Kafka offset, with no string made per row),
 * or one string per row.
 */
export type ColumnOffsets =
  | { readonly kind: "sequence"; readonly first: number }
  | { readonly kind: "positions"; readonly positions: Float64Array }
  | { readonly kind: "list"; readonly offsets: readonly string[] };

/**
 * The rows' keys, Arrow's nullable binary layout: every key back to back in `bytes`, `rows + 1`
 * offsets into it, and a validity bitmap saying which rows have a key at all (a row without one
 * has an empty range). An empty key (`Uint8Array(0)`) is a key, not the lack of one.
 */
export interface ColumnKeys {
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  /**
   * Bit `row % 8` of byte `row >> 3` is set when row `row` has a key; absent when every row has
   * one.
   */
  readonly present?: Uint8Array;
}

/**
 * The rows' headers: one entry per row (`undefined` for a row without headers), or made per row
 * only when a record is asked for (`at`), from what the source kept of each message, so that a
 * byte parser after the source never pays for them.
 */
export type ColumnHeaders =
  | { readonly kind: "list"; readonly headers: ReadonlyArray<RecordHeaders | undefined> }
  | { readonly kind: "lazy"; readonly at: (row: number) => RecordHeaders | undefined };

/** Rows of several partitions: the partitions' names and each row's index into them. */
export interface ColumnPartitions {
  readonly names: readonly string[];
  readonly ofRow: Uint32Array;
}

/** What builds a `SourceRecordColumns`. */
export interface SourceRecordColumnsInit {
  /**
   * The stream every row comes from (a TCP peer, a file, a topic-partition); with `partitions`,
   * the first row's.
   */
  readonly partition: string;
  /** Every row's value, back to back. */
  readonly bytes: Uint8Array;
  /** `rows + 1` offsets into `bytes`, starting at 0 (Arrow's binary layout). */
  readonly valueOffsets: Uint32Array;
  /** Each row's timestamp, or one for every row. */
  readonly timestampMs: Float64Array | number;
  /** Each row's offset (where to resume after it). */
  readonly offsets: ColumnOffsets;
  /** The rows' keys; none when absent. */
  readonly keys?: ColumnKeys;
  /** The rows' headers; none when absent. */
  readonly headers?: ColumnHeaders;
  /** Each row's partition when the rows come from several; all are `partition`'s when absent. */
  readonly partitions?: ColumnPartitions;
  /**
   * A bitmap (bit `row & 7` of byte `row >> 3`) of the rows that have no value at all (a Kafka
   * tombstone), their `bytes` range empty; none when every row has one.
   */
  readonly tombstones?: Uint8Array;
}

/**
 * Records held as columns — every value in one byte blob with offsets, a timestamp column, the
 * offsets and, where the source has them, keys (one blob, offsets and a validity bitmap),
 * headers (kept per row, or made on demand) and each row's partition — instead of one object
 * per record: a byte batch. A source hands these over (`readColumnsResult`) so that the bytes
 * reach the kernels as they are; a byte parser after the source reads `values` with no
 * per-record work, and records become `SourceRecord` objects only when something asks for them
 * (`records()`, once).
 *
 * @example
 * const columns = new SourceRecordColumns({
 *   partition: "127.0.0.1:9999",
 *   bytes: Buffer.from("ab"),
 *   valueOffsets: Uint32Array.of(0, 1, 2),
 *   timestampMs: Date.now(),
 *   offsets: { kind: "sequence", first: 0 },
 * });
 * columns.record(1).value; // bytes of "b"; offset "1"
 */
export class SourceRecordColumns {
  readonly partition: string;
  readonly bytes: Uint8Array;
  readonly valueOffsets: Uint32Array;
  readonly timestampMs: Float64Array | number;
  readonly offsets: ColumnOffsets;
  readonly keys: ColumnKeys | undefined;
  readonly headers: ColumnHeaders | undefined;
  readonly partitions: ColumnPartitions | undefined;
  readonly tombstones: Uint8Array | undefined;
  #records: SourceRecord[] | undefined;

  constructor(init: SourceRecordColumnsInit) {
    this.partition = init.partition;
    this.bytes = init.bytes;
    this.valueOffsets = init.valueOffsets;
    this.timestampMs = init.timestampMs;
    this.offsets = init.offsets;
    this.keys = init.keys;
    this.headers = init.headers;
    this.partitions = init.partitions;
    this.tombstones = init.tombstones;
  }

  /** Rows held. */
  get length(): number {
    return this.valueOffsets.length - 1;
  }

  /**
   * Bytes of the values and keys (what flow control counts, as it counts a record's value and
   * key).
   */
  get byteLength(): number {
    const values = (this.valueOffsets[this.length] ?? 0) - (this.valueOffsets[0] ?? 0);
    const keyOffsets = this.keys?.offsets;
    if (keyOffsets === undefined) return values;
    return values + (keyOffsets[this.length] ?? 0) - (keyOffsets[0] ?? 0);
  }

  /** The values as a key column (`{ keys, offsets }`) for the kernels, without a copy. */
  get values(): { readonly keys: Uint8Array; readonly offsets: Uint32Array } {
    return { keys: this.bytes, offsets: this.valueOffsets };
  }

  /** The offset of row `row`. */
  offsetAt(row: number): string {
    const { offsets } = this;
    if (offsets.kind === "sequence") return String(offsets.first + row);
    if (offsets.kind === "positions") return String(offsets.positions[row] as number);
    return offsets.offsets[row] as string;
  }

  /** The offset of the last row (where to resume after these rows), or `undefined` when empty. */
  get lastOffset(): string | undefined {
    return this.length === 0 ? undefined : this.offsetAt(this.length - 1);
  }

  /** The timestamp of row `row`. */
  timestampAt(row: number): number {
    const { timestampMs } = this;
    return typeof timestampMs === "number" ? timestampMs : (timestampMs[row] as number);
  }

  /** The partition of row `row`. */
  partitionAt(row: number): string {
    const { partitions } = this;
    return partitions === undefined
      ? this.partition
      : (partitions.names[partitions.ofRow[row] as number] as string);
  }

  /** The key of row `row` (a view into the key blob), or `undefined` when it has none. */
  keyAt(row: number): Uint8Array | undefined {
    const { keys } = this;
    if (keys === undefined) return undefined;
    const { present } = keys;
    if (present !== undefined && !bitAt(present, row)) return undefined;
    return keys.bytes.subarray(keys.offsets[row], keys.offsets[row + 1]);
  }

  /** True when row `row` has no value at all (a tombstone). */
  isTombstone(row: number): boolean {
    const { tombstones } = this;
    return tombstones !== undefined && bitAt(tombstones, row);
  }

  /** The headers of row `row` (an empty object when it has none). */
  headersAt(row: number): RecordHeaders {
    const { headers } = this;
    if (headers === undefined) return NO_HEADERS;
    const found = headers.kind === "list" ? headers.headers[row] : headers.at(row);
    return found ?? NO_HEADERS;
  }

  /** Rows per partition, partitions in order of their first row. */
  rowsPerPartition(): Map<string, number> {
    const counts = new Map<string, number>();
    const { partitions } = this;
    if (partitions === undefined) {
      if (this.length > 0) counts.set(this.partition, this.length);
      return counts;
    }
    const perName = new Uint32Array(partitions.names.length);
    const order: number[] = [];
    for (let row = 0; row < this.length; row++) {
      const index = partitions.ofRow[row] as number;
      const seen = perName[index] as number;
      if (seen === 0) order.push(index);
      perName[index] = seen + 1;
    }
    for (const index of order)
      counts.set(partitions.names[index] as string, perName[index] as number);
    return counts;
  }

  /** The largest value, in bytes (0 when empty). */
  largestValueBytes(): number {
    let largest = 0;
    const offsets = this.valueOffsets;
    for (let row = 0; row < this.length; row++) {
      const size = (offsets[row + 1] as number) - (offsets[row] as number);
      if (size > largest) largest = size;
    }
    return largest;
  }

  /** The largest record's value and key, in bytes (0 when empty): what flow control bounds. */
  largestRecordBytes(): number {
    const keyOffsets = this.keys?.offsets;
    if (keyOffsets === undefined) return this.largestValueBytes();
    let largest = 0;
    const offsets = this.valueOffsets;
    for (let row = 0; row < this.length; row++) {
      const size =
        (offsets[row + 1] as number) -
        (offsets[row] as number) +
        (keyOffsets[row + 1] as number) -
        (keyOffsets[row] as number);
      if (size > largest) largest = size;
    }
    return largest;
  }

  /** Row `row` as a record (its value and key views into the blobs, not copies). */
  record(row: number): SourceRecord {
    const value = this.bytes.subarray(this.valueOffsets[row], this.valueOffsets[row + 1]);
    const headers = this.headersAt(row);
    const timestampMs = this.timestampAt(row);
    const partition = this.partitionAt(row);
    const offset = this.offsetAt(row);
    const key = this.keyAt(row);
    const record: SourceRecord =
      key === undefined
        ? { value, headers, timestampMs, partition, offset }
        : { value, key, headers, timestampMs, partition, offset };
    return this.isTombstone(row) ? { ...record, tombstone: true } : record;
  }

  /** Every row as a record, made on the first call and kept. */
  records(): SourceRecord[] {
    if (this.#records === undefined) {
      const records = new Array<SourceRecord>(this.length);
      for (let row = 0; row < records.length; row++) records[row] = this.record(row);
      this.#records = records;
    }
    return this.#records;
  }

  /**
   * The columns as plain data (what a message or the write-ahead log carries): headers one
   * entry per row (those made on demand are made here), each header value its own bytes (a
   * message copies a view's whole buffer).
   *
   * @example
   * worker.postMessage(columns.fields());
   */
  fields(): SourceRecordColumnsInit {
    const { headers, keys, partitions, tombstones } = this;
    return {
      partition: this.partition,
      bytes: this.bytes,
      valueOffsets: this.valueOffsets,
      timestampMs: this.timestampMs,
      offsets: this.offsets,
      ...(keys === undefined ? {} : { keys }),
      ...(headers === undefined
        ? {}
        : {
            headers: {
              kind: "list",
              headers: Array.from({ length: this.length }, (_, row) =>
                ownHeaders(headers.kind === "list" ? headers.headers[row] : headers.at(row)),
              ),
            },
          }),
      ...(partitions === undefined ? {} : { partitions }),
      ...(tombstones === undefined ? {} : { tombstones }),
    };
  }

  /**
   * Rows `start` (included) to `end` (excluded) as columns of their own; values and keys are
   * copied once into blobs of their own, so a slice never pins its parent's blobs.
   *
   * @example
   * columns.slice(0, 100); // the first 100 rows
   */
  slice(start: number, end: number): SourceRecordColumns {
    const { offsets, timestampMs, keys, headers, partitions, tombstones } = this;
    const partition = end > start ? this.partitionAt(start) : this.partition;
    return new SourceRecordColumns({
      partition,
      ...sliceBinary(this.bytes, this.valueOffsets, start, end, "bytes", "valueOffsets"),
      timestampMs: typeof timestampMs === "number" ? timestampMs : timestampMs.slice(start, end),
      offsets:
        offsets.kind === "sequence"
          ? { kind: "sequence", first: offsets.first + start }
          : offsets.kind === "positions"
            ? { kind: "positions", positions: offsets.positions.slice(start, end) }
            : { kind: "list", offsets: offsets.offsets.slice(start, end) },
      ...(keys === undefined ? {} : { keys: sliceKeys(keys, start, end) }),
      ...(headers === undefined
        ? {}
        : {
            headers:
              headers.kind === "list"
                ? { kind: "list", headers: headers.headers.slice(start, end) }
                : { kind: "lazy", at: (row: number) => headers.at(row + start) },
          }),
      ...(partitions === undefined
        ? {}
        : { partitions: { names: partitions.names, ofRow: partitions.ofRow.slice(start, end) } }),
      ...(tombstones === undefined ? {} : { tombstones: sliceBits(tombstones, start, end) }),
    });
  }
}

function bitAt(bits: Uint8Array, row: number): boolean {
  return ((bits[row >> 3] as number) & (1 << (row & 7))) !== 0;
}

// Bits `start` (included) to `end` (excluded) of a bitmap, as a bitmap of their own.
function sliceBits(bits: Uint8Array, start: number, end: number): Uint8Array {
  const sliced = new Uint8Array((end - start + 7) >> 3);
  for (let row = start; row < end; row++) {
    if (bitAt(bits, row)) {
      const at = row - start;
      sliced[at >> 3] = (sliced[at >> 3] as number) | (1 << (at & 7));
    }
  }
  return sliced;
}

function sliceBinary<B extends string, O extends string>(
  bytes: Uint8Array,
  offsets: Uint32Array,
  start: number,
  end: number,
  bytesName: B,
  offsetsName: O,
): Record<B, Uint8Array> & Record<O, Uint32Array> {
  const from = offsets[start] as number;
  const sliced = new Uint32Array(end - start + 1);
  for (let row = start; row <= end; row++) sliced[row - start] = (offsets[row] as number) - from;
  return {
    [bytesName]: bytes.slice(from, offsets[end]),
    [offsetsName]: sliced,
  } as Record<B, Uint8Array> & Record<O, Uint32Array>;
}

function sliceKeys(keys: ColumnKeys, start: number, end: number): ColumnKeys {
  const binary = sliceBinary(keys.bytes, keys.offsets, start, end, "bytes", "offsets");
  const { present } = keys;
  if (present === undefined) return binary;
  return { ...binary, present: sliceBits(present, start, end) };
}

function ownHeaders(headers: RecordHeaders | undefined): RecordHeaders | undefined {
  if (headers === undefined) return undefined;
  let copy: Record<string, Uint8Array> | undefined;
  for (const name in headers) {
    const value = headers[name] as Uint8Array;
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) continue;
    copy ??= { ...headers };
    // A Buffer stays one (the kind the source gave), in memory of its own: Buffer's slice() is
    // a view and Buffer.from() may share a pool.
    copy[name] = Buffer.isBuffer(value) ? Buffer.alloc(value.byteLength, value) : value.slice();
  }
  return copy ?? headers;
}
