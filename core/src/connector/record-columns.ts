import type { SourceRecord } from "./records.js";

const NO_HEADERS = Object.freeze({});

/**
 * Where each row's offset comes from: a run of consecutive integers, one number per row (such
 * as the byte position after a line of a file, with no string made per row), or one string per
 * row.
 */
export type ColumnOffsets =
  | { readonly kind: "sequence"; readonly first: number }
  | { readonly kind: "positions"; readonly positions: Float64Array }
  | { readonly kind: "list"; readonly offsets: readonly string[] };

/** What builds a `SourceRecordColumns`. */
export interface SourceRecordColumnsInit {
  /** The stream every row comes from (a TCP peer, a file, a topic-partition). */
  readonly partition: string;
  /** Every row's value, back to back. */
  readonly bytes: Uint8Array;
  /** `rows + 1` offsets into `bytes`, starting at 0 (Arrow's binary layout). */
  readonly valueOffsets: Uint32Array;
  /** Each row's timestamp, or one for every row. */
  readonly timestampMs: Float64Array | number;
  /** Each row's offset (where to resume after it). */
  readonly offsets: ColumnOffsets;
}

/**
 * Records of one partition held as columns — every value in one byte blob with offsets, a
 * timestamp column and the offsets — instead of one object per record: a byte batch. A source
 * that receives many small records without keys or headers (lines from a socket or a file)
 * hands these over (`readColumnsResult`) so that the bytes reach the kernels as they are; a
 * byte parser after the source reads `values` with no per-record work, and records become
 * `SourceRecord` objects only when something asks for them (`records()`, once).
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
  #records: SourceRecord[] | undefined;

  constructor(init: SourceRecordColumnsInit) {
    this.partition = init.partition;
    this.bytes = init.bytes;
    this.valueOffsets = init.valueOffsets;
    this.timestampMs = init.timestampMs;
    this.offsets = init.offsets;
  }

  /** Rows held. */
  get length(): number {
    return this.valueOffsets.length - 1;
  }

  /** Bytes of the values (what flow control counts). */
  get byteLength(): number {
    return (this.valueOffsets[this.length] ?? 0) - (this.valueOffsets[0] ?? 0);
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

  /** Row `row` as a record (its value a view into `bytes`, not a copy). */
  record(row: number): SourceRecord {
    return {
      value: this.bytes.subarray(this.valueOffsets[row], this.valueOffsets[row + 1]),
      headers: NO_HEADERS,
      timestampMs: this.timestampAt(row),
      partition: this.partition,
      offset: this.offsetAt(row),
    };
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
   * Rows `start` (included) to `end` (excluded) as columns of their own; the values are copied
   * once into a blob of their own, so a slice never pins its parent's blob.
   *
   * @example
   * columns.slice(0, 100); // the first 100 rows
   */
  slice(start: number, end: number): SourceRecordColumns {
    const from = this.valueOffsets[start] as number;
    const valueOffsets = new Uint32Array(end - start + 1);
    for (let row = start; row <= end; row++) {
      valueOffsets[row - start] = (this.valueOffsets[row] as number) - from;
    }
    const { offsets, timestampMs } = this;
    return new SourceRecordColumns({
      partition: this.partition,
      bytes: this.bytes.slice(from, this.valueOffsets[end]),
      valueOffsets,
      timestampMs: typeof timestampMs === "number" ? timestampMs : timestampMs.slice(start, end),
      offsets:
        offsets.kind === "sequence"
          ? { kind: "sequence", first: offsets.first + start }
          : offsets.kind === "positions"
            ? { kind: "positions", positions: offsets.positions.slice(start, end) }
            : { kind: "list", offsets: offsets.offsets.slice(start, end) },
    });
  }
}
