import { SourceRecordColumns } from "../../connector/record-columns.js";

const INITIAL_BYTES = 64 * 1024;
const INITIAL_ROWS = 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines a socket source received and has not handed over yet, kept as columns (one growing
 * byte buffer, line ends, arrival times) rather than one record object per line, so a read
 * hands a byte batch (`SourceRecordColumns`) to Sluice with one copy of the bytes.
 *
 * @example
 * const lines = new ReceivedLines("127.0.0.1:9999");
 * lines.append(Buffer.from("hello"), Date.now());
 * lines.byteLength; // 5
 * lines.take(1000); // one row, offset "0"
 */
export class ReceivedLines {
  readonly #partition: string;
  #bytes = new Uint8Array(INITIAL_BYTES);
  /** Where each held line ends in `#bytes` (rows `#first` to `#rows - 1`). */
  #ends = new Uint32Array(INITIAL_ROWS);
  #times = new Float64Array(INITIAL_ROWS);
  /** The first row not taken yet, and where its bytes start. */
  #first = 0;
  #firstByte = 0;
  #rows = 0;
  #byteLength = 0;
  /** The offset of row `#first`. */
  #firstOffset = 0;

  constructor(partition: string) {
    this.#partition = partition;
  }

  /** Lines held. */
  get length(): number {
    return this.#rows - this.#first;
  }

  /**
   * Bytes of the lines held (without their newlines): the written region after the first row not
   * taken, so keeping it costs nothing per line.
   */
  get byteLength(): number {
    return this.#byteLength - this.#firstByte;
  }

  /** The offset the next line appended will get (lines are numbered from 0 per source). */
  get nextOffset(): number {
    return this.#firstOffset + this.length;
  }

  /** Appends one line made of `parts` (already without its newline), received at `timeMs`. */
  append(parts: Uint8Array | readonly Uint8Array[], timeMs: number): void {
    const list = parts instanceof Uint8Array ? [parts] : parts;
    let size = 0;
    for (const part of list) size += part.length;
    this.#reserve(size);
    for (const part of list) {
      this.#bytes.set(part, this.#byteLength);
      this.#byteLength += part.length;
    }
    this.#ends[this.#rows] = this.#byteLength;
    this.#times[this.#rows] = timeMs;
    this.#rows++;
  }

  /**
   * Appends every line of `chunk[start, end)`, all received at `timeMs`: each ends at a `\n`
   * (`end` is just after the last one), a `\r` before it dropped. The bytes are copied in one go
   * and the separators squeezed out in place, line by line, instead of one copy per line.
   */
  appendLines(chunk: Uint8Array, start: number, end: number, timeMs: number): void {
    if (end <= start) return;
    this.#reserve(end - start);
    const bytes = this.#bytes;
    const base = this.#byteLength;
    bytes.set(chunk.subarray(start, end), base);
    let written = base;
    let lineStart = start;
    for (let index = chunk.indexOf(NEWLINE, start); index !== -1 && index < end; ) {
      const lineEnd = index > lineStart && chunk[index - 1] === CARRIAGE_RETURN ? index - 1 : index;
      const length = lineEnd - lineStart;
      const read = base + (lineStart - start);
      if (read !== written) bytes.copyWithin(written, read, read + length);
      written += length;
      if (this.#rows === this.#ends.length) this.#growRows();
      this.#ends[this.#rows] = written;
      this.#times[this.#rows] = timeMs;
      this.#rows++;
      lineStart = index + 1;
      index = lineStart < end ? chunk.indexOf(NEWLINE, lineStart) : -1;
    }
    this.#byteLength = written;
  }

  /** Takes the first `max` lines held (or all) as a byte batch, oldest first. */
  take(max: number): SourceRecordColumns {
    const rows = Math.min(max, this.length);
    const start = this.#firstByte;
    const end = rows === 0 ? start : (this.#ends[this.#first + rows - 1] as number);
    const valueOffsets = new Uint32Array(rows + 1);
    for (let row = 0; row < rows; row++) {
      valueOffsets[row + 1] = (this.#ends[this.#first + row] as number) - start;
    }
    const columns = new SourceRecordColumns({
      partition: this.#partition,
      bytes: this.#bytes.slice(start, end),
      valueOffsets,
      timestampMs: this.#times.slice(this.#first, this.#first + rows),
      offsets: { kind: "sequence", first: this.#firstOffset },
    });
    this.#first += rows;
    this.#firstByte = end;
    this.#firstOffset += rows;
    if (this.#first === this.#rows) this.#clear();
    return columns;
  }

  #clear(): void {
    this.#first = 0;
    this.#firstByte = 0;
    this.#rows = 0;
    this.#byteLength = 0;
  }

  /** Room for one more line of `bytes`: what was taken is dropped first, then it grows. */
  #reserve(bytes: number): void {
    if (this.#byteLength + bytes > this.#bytes.length || this.#rows === this.#ends.length) {
      this.#compact();
    }
    if (this.#byteLength + bytes > this.#bytes.length) {
      let capacity = this.#bytes.length * 2;
      while (capacity < this.#byteLength + bytes) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.#bytes.subarray(0, this.#byteLength));
      this.#bytes = grown;
    }
    if (this.#rows === this.#ends.length) this.#growRows();
  }

  /** Room for more rows, in place (no compaction: the bytes stay where they are). */
  #growRows(): void {
    const ends = new Uint32Array(this.#ends.length * 2);
    ends.set(this.#ends.subarray(0, this.#rows));
    this.#ends = ends;
    const times = new Float64Array(this.#times.length * 2);
    times.set(this.#times.subarray(0, this.#rows));
    this.#times = times;
  }

  #compact(): void {
    if (this.#first === 0) return;
    const shift = this.#firstByte;
    this.#bytes.copyWithin(0, shift, this.#byteLength);
    this.#byteLength -= shift;
    for (let row = this.#first; row < this.#rows; row++) {
      this.#ends[row - this.#first] = (this.#ends[row] as number) - shift;
      this.#times[row - this.#first] = this.#times[row] as number;
    }
    this.#rows -= this.#first;
    this.#first = 0;
    this.#firstByte = 0;
  }
}
