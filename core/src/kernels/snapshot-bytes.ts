import { SluiceError } from "../errors/sluice-error.js";
import { grow } from "./byte-key-dictionary.js";

const TWO_32 = 4294967296;

/**
 * A little-endian byte writer for snapshots, with NaN written as the canonical quiet NaN so
 * both engines produce the same bytes.
 *
 * @example
 * const out = new SnapshotWriter();
 * out.u32(7);
 * out.finish(); // Uint8Array [7, 0, 0, 0]
 */
export class SnapshotWriter {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  private length = 0;

  /** Makes room for `n` bytes and returns where they go (call before reading `this.view`). */
  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      this.bytes = grow(this.bytes, at + n);
      this.view = new DataView(this.bytes.buffer);
    }
    this.length = at + n;
    return at;
  }

  u8(value: number): void {
    this.bytes[this.reserve(1)] = value;
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  /** A non-negative safe integer as u64. */
  u64(value: number): void {
    const at = this.reserve(8);
    this.view.setUint32(at, value % TWO_32, true);
    this.view.setUint32(at + 4, Math.floor(value / TWO_32), true);
  }

  /** A safe integer (possibly negative) as i64. */
  i64(value: number): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, BigInt(value), true);
  }

  /** An f64 with canonical NaN. */
  f64(value: number): void {
    const at = this.reserve(8);
    if (Number.isNaN(value)) {
      this.view.setUint32(at, 0, true);
      this.view.setUint32(at + 4, 0x7ff80000, true);
    } else {
      this.view.setFloat64(at, value, true);
    }
  }

  bytesOf(source: Uint8Array): void {
    const at = this.reserve(source.length);
    this.bytes.set(source, at);
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/**
 * A little-endian reader over snapshot bytes; running past the end is a corrupt snapshot.
 *
 * @example
 * new SnapshotReader(Uint8Array.of(7, 0, 0, 0)).u32(); // 7
 */
export class SnapshotReader {
  at = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    const at = this.at;
    if (at + n > this.bytes.length) throw corruptSnapshot("it ends too early");
    this.at = at + n;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)] as number;
  }

  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }

  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  /** A u64 that must be a safe integer. */
  u64(): number {
    const value = this.view.getBigUint64(this.take(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corruptSnapshot("a count is out of range");
    return Number(value);
  }

  /** An i64 that must be a safe integer. */
  i64(): number {
    const value = this.view.getBigInt64(this.take(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw corruptSnapshot("a time is out of range");
    }
    return Number(value);
  }

  f64(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  /** The two 32-bit halves of an i64 (low first). */
  halves(): [number, number] {
    const at = this.take(8);
    return [this.view.getInt32(at, true), this.view.getInt32(at + 4, true)];
  }

  slice(n: number): Uint8Array {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
}

/**
 * The error for snapshot bytes that cannot be restored.
 *
 * @example
 * throw corruptSnapshot("it ends too early");
 */
export function corruptSnapshot(what: string): SluiceError {
  return new SluiceError(
    "SLUICE_NATIVE_INVALID_SNAPSHOT",
    `invalid snapshot: the snapshot is corrupt: ${what}`,
  );
}
