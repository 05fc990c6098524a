import { grow } from "./byte-key-dictionary.js";
import type { KeyColumn } from "./kernels.js";

/**
 * Builds a key column row by row into growable typed arrays (no strings, no per-row arrays).
 *
 * @example
 * const builder = new ColumnBuilder(2, 16);
 * builder.append(bytes, 0, 3);
 * builder.endRow();
 * const column = builder.finish();
 */
export class ColumnBuilder {
  private keys: Uint8Array;
  private offsets: Uint32Array;
  private length = 0;
  private rows = 0;

  constructor(rows: number, bytes: number) {
    this.keys = new Uint8Array(Math.max(bytes, 16));
    this.offsets = new Uint32Array(Math.max(rows, 4) + 1);
  }

  /** The bytes written so far are `bytes[0..byteLength)` (a view, valid until the next append). */
  get bytes(): Uint8Array {
    return this.keys;
  }

  /** Bytes written so far. */
  get byteLength(): number {
    return this.length;
  }

  /** Appends `bytes[start..end)` to the current row. */
  append(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.length + length > this.keys.length) this.keys = grow(this.keys, this.length + length);
    if (length < 16) {
      const keys = this.keys;
      for (let i = 0; i < length; i++) keys[this.length + i] = bytes[start + i] as number;
    } else {
      this.keys.set(bytes.subarray(start, end), this.length);
    }
    this.length += length;
  }

  /** Appends one byte to the current row. */
  appendByte(byte: number): void {
    if (this.length + 1 > this.keys.length) this.keys = grow(this.keys, this.length + 1);
    this.keys[this.length++] = byte;
  }

  /** Drops bytes written to the current row past `length`. */
  truncate(length: number): void {
    this.length = length;
  }

  /** Closes the current row. */
  endRow(): void {
    if (this.rows + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.rows + 2);
    this.offsets[++this.rows] = this.length;
  }

  /** The column built, trimmed to size. */
  finish(): KeyColumn {
    return { keys: this.keys.slice(0, this.length), offsets: this.offsets.slice(0, this.rows + 1) };
  }
}
