import { SourceRecordColumns } from "../../connector/record-columns.js";

const INITIAL_ROWS = 1024;

/**
 * The lines of one file gathered in one read as a byte batch. Each chunk read from the file is
 * the source's own buffer, so its lines are moved together in place (dropping the line endings
 * between them) and the chunk becomes the blob of values: the bytes are copied once, within the
 * chunk, with no object per line. A read that takes several chunks joins them when it is built;
 * lines that fill less than half of their one chunk are copied out of it, so that the batch's
 * records (views into the blob) never keep a much larger chunk alive.
 * Each row's offset is the byte position after its line (a number column, no string per row).
 *
 * @example
 * const lines = new LineColumns("a.txt", mtimeMs, 1000);
 * lines.beginChunk(chunk); // chunk holds "ab\ncd\n", read at position 0
 * lines.add(0, 2, 3);
 * lines.add(3, 5, 6);
 * lines.build(); // values "ab", "cd"; offsets "3", "6"
 */
export class LineColumns {
  readonly #partition: string;
  readonly #timestampMs: number;
  /** Chunks done with, each cut to the lines moved into it. */
  readonly #parts: Uint8Array[] = [];
  #partBytes = 0;
  #chunk: Uint8Array | undefined;
  /** Where the next line goes in `#chunk`. */
  #write = 0;
  /** `rows + 1` value offsets over every part, back to back. */
  #ends: Uint32Array;
  #positions: Float64Array;
  #rows = 0;

  /** `expectedRows` sizes the columns up front (at most a few thousand rows). */
  constructor(partition: string, timestampMs: number, expectedRows: number) {
    this.#partition = partition;
    this.#timestampMs = timestampMs;
    const rows = Math.max(1, Math.min(expectedRows, INITIAL_ROWS));
    this.#ends = new Uint32Array(rows + 1);
    this.#positions = new Float64Array(rows);
  }

  /** Lines gathered. */
  get length(): number {
    return this.#rows;
  }

  /** Bytes of the lines gathered (without their line endings). */
  get byteLength(): number {
    return this.#ends[this.#rows] as number;
  }

  /** Takes lines from `chunk` next; its bytes are moved in place, so it must not be used after. */
  beginChunk(chunk: Uint8Array): void {
    this.#endChunk();
    this.#chunk = chunk;
    this.#write = 0;
  }

  /** Adds the line `chunk[start, stop)` of the current chunk, which ends at `position` in its file. */
  add(start: number, stop: number, position: number): void {
    const chunk = this.#chunk as Uint8Array;
    if (start !== this.#write) chunk.copyWithin(this.#write, start, stop);
    this.#write += stop - start;
    if (this.#rows === this.#positions.length) this.#grow();
    this.#positions[this.#rows] = position;
    this.#rows++;
    this.#ends[this.#rows] = this.#partBytes + this.#write;
  }

  /** The lines as columns (partition, the file's time for every row), or `undefined` if none. */
  build(): SourceRecordColumns | undefined {
    this.#endChunk();
    const rows = this.#rows;
    if (rows === 0) return undefined;
    const parts = this.#parts;
    let bytes: Uint8Array;
    if (parts.length === 1) {
      bytes = ownedBytes(parts[0] as Uint8Array);
    } else {
      bytes = new Uint8Array(this.#partBytes);
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    return new SourceRecordColumns({
      partition: this.#partition,
      bytes,
      valueOffsets: rows + 1 === this.#ends.length ? this.#ends : this.#ends.slice(0, rows + 1),
      timestampMs: this.#timestampMs,
      offsets: {
        kind: "positions",
        positions:
          rows === this.#positions.length ? this.#positions : this.#positions.slice(0, rows),
      },
    });
  }

  #endChunk(): void {
    if (this.#chunk !== undefined && this.#write > 0) {
      this.#parts.push(this.#chunk.subarray(0, this.#write));
      this.#partBytes += this.#write;
    }
    this.#chunk = undefined;
    this.#write = 0;
  }

  #grow(): void {
    const ends = new Uint32Array(this.#positions.length * 2 + 1);
    ends.set(this.#ends);
    this.#ends = ends;
    const positions = new Float64Array(this.#positions.length * 2);
    positions.set(this.#positions);
    this.#positions = positions;
  }
}

/**
 * The chunk's lines as the batch's blob: the chunk itself when they fill most of it, else a
 * copy of only them. A read that stops after a few short lines (a small `maxRecords`, lines
 * shorter than the last read's) uses a sliver of its 64 KiB (up to 16 MiB) chunk, and every
 * record of the batch held in a window or in state would keep the whole chunk alive.
 */
function ownedBytes(lines: Uint8Array): Uint8Array {
  return lines.byteLength * 2 >= lines.buffer.byteLength ? lines : lines.slice();
}
