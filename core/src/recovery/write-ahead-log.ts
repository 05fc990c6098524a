import { join } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import { crc32 } from "./checksum.js";
import {
  type DurableFile,
  type DurableFileSystem,
  errorCode,
  nodeFileSystem,
} from "./durable-fs.js";

/** How a `WriteAheadLog` is set up. */
export interface WriteAheadLogOptions {
  /** The file system (default: the real one; tests pass a `FaultInjectingFileSystem`). */
  readonly fs?: DurableFileSystem;
  /** A new segment file is started once the current one reaches this size (default 16 MiB). */
  readonly segmentBytes?: number;
  /**
   * The most the log may hold (default 1 GiB): a writer waits (`waitForRoom`) until checkpoints
   * let older entries go.
   */
  readonly maxBytes?: number;
  /**
   * Throws when the log may no longer be written: its checkpoint folder was taken over by
   * another run (checked before every append and truncation).
   */
  readonly assertWritable?: () => void;
}

/** One entry of the log. */
export interface WalEntry {
  /** Its number: 1, 2, 3, ... in append order. */
  readonly sequence: number;
  readonly payload: Uint8Array;
}

/** What `open` is told about the log's past. */
export interface WalOpenOptions {
  /**
   * The highest sequence number a checkpoint has accounted for. New entries are numbered after
   * it even when checkpoints let every segment go, so the numbering never runs backwards across
   * runs (a checkpoint that remembers entry N must never see a new entry numbered N or lower).
   */
  readonly after?: number | undefined;
}

/** What `open` found in the folder. */
export interface WalContents {
  /** Every intact entry, in sequence order. */
  readonly entries: WalEntry[];
  /** Segments that ended in a torn or damaged entry (the rest of such a segment is ignored). */
  readonly damaged: readonly string[];
  /**
   * Segments that held no entry — a crash between creating a segment and writing its first entry —
   * and were removed, so a new segment can take their name.
   */
  readonly removedEmpty: readonly string[];
}

interface Segment {
  readonly name: string;
  readonly first: number;
  last: number;
  bytes: number;
}

const SEGMENT = /^segment-(\d{16})\.wal$/;
const SEGMENT_MAGIC = new TextEncoder().encode("SLUICEW\u0001");
const FRAME_HEADER = 16; // length u32, crc32 u32 (over sequence and payload), sequence f64

/**
 * An append-only log of byte entries in segment files (Spark's receiver write-ahead log): each
 * `append` is written and `fsync`ed before it resolves, so what it holds survives a crash of the
 * process or the machine. A checkpoint lets older entries go (`truncateThrough`). Each entry is
 * framed with its length, sequence number and a CRC-32, so a write torn by a crash is recognised
 * and ignored. The log's size is bounded: `waitForRoom` holds writers back until truncation frees
 * space, and a full disk (`ENOSPC`) is reported as `SLUICE_DISK_FULL`.
 *
 * @example
 * const wal = new WriteAheadLog("/ckpt/wal/source_socket_1");
 * const { entries } = await wal.open();
 * const sequence = await wal.append(bytes);
 * await wal.truncateThrough(sequence);
 */
export class WriteAheadLog {
  readonly directory: string;
  readonly #fs: DurableFileSystem;
  readonly #segmentBytes: number;
  readonly #maxBytes: number;
  readonly #assertWritable: () => void;
  readonly #segments: Segment[] = [];
  #active: { segment: Segment; file: DurableFile } | undefined;
  #next = 1;
  #opened = false;
  #queue: Promise<unknown> = Promise.resolve();
  #roomWaiters: (() => void)[] = [];

  constructor(directory: string, options: WriteAheadLogOptions = {}) {
    this.directory = directory;
    this.#fs = options.fs ?? nodeFileSystem;
    this.#segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
    this.#assertWritable = options.assertWritable ?? (() => undefined);
    for (const [field, value] of [
      ["segmentBytes", this.#segmentBytes],
      ["maxBytes", this.#maxBytes],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1024) {
        throw new SluiceError(
          "SLUICE_INVALID_ARGUMENT",
          `write-ahead log: ${field} must be an integer of at least 1024 bytes, got ${String(value)}`,
        );
      }
    }
  }

  /** Bytes the log's segments take on disk. */
  get bytes(): number {
    return this.#segments.reduce((total, segment) => total + segment.bytes, 0);
  }

  /** The sequence number the next entry gets. */
  get nextSequence(): number {
    return this.#next;
  }

  /**
   * Reads what the folder holds (creating it when missing); appends go to a new segment after
   * this, never after a possibly torn end. A segment without a single intact entry (a crash
   * inside a segment roll) is removed. New entries are numbered after every entry found, after
   * every segment's first number and after `options.after`.
   *
   * @example
   * const { entries, damaged } = await wal.open({ after: checkpoint.walSequence });
   */
  async open(options: WalOpenOptions = {}): Promise<WalContents> {
    if (this.#opened) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `write-ahead log ${this.directory} is already open`,
      );
    }
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `write-ahead log ${this.directory}: after must be a non-negative integer, got ${String(options.after)}`,
      );
    }
    this.#next = Math.max(this.#next, after + 1);
    await this.#fs.mkdir(this.directory);
    const names = (await this.#fs.list(this.directory)).filter((name) => SEGMENT.test(name)).sort();
    const entries: WalEntry[] = [];
    const damaged: string[] = [];
    const removedEmpty: string[] = [];
    const seen = new Set<number>();
    for (const name of names) {
      const path = join(this.directory, name);
      const bytes = await this.#fs.readFile(path);
      const { frames, intact } = readSegment(bytes);
      const first = Number(SEGMENT.exec(name)?.[1]);
      // Its number was handed out: never hand it out again, even once the file is gone.
      this.#next = Math.max(this.#next, first);
      if (frames.length === 0) {
        // Nothing was ever acknowledged from it; left in place, the next roll would collide
        // with its name (EEXIST) on every restart.
        await this.#fs.remove(path);
        removedEmpty.push(path);
        continue;
      }
      if (!intact) damaged.push(path);
      let last = first - 1;
      for (const entry of frames) {
        last = Math.max(last, entry.sequence);
        if (seen.has(entry.sequence)) continue;
        seen.add(entry.sequence);
        entries.push(entry);
      }
      this.#segments.push({ name, first, last, bytes: bytes.byteLength });
      this.#next = Math.max(this.#next, last + 1);
    }
    if (removedEmpty.length > 0) await this.#fs.syncDirectory(this.directory);
    entries.sort((a, b) => a.sequence - b.sequence);
    this.#opened = true;
    return { entries, damaged, removedEmpty };
  }

  /**
   * Appends an entry and flushes it to disk; resolves with its sequence number. Rejects with
   * `SLUICE_DISK_FULL` when the disk is full (the entry is then not in the log).
   *
   * @example
   * const sequence = await wal.append(new TextEncoder().encode("hello"));
   */
  append(payload: Uint8Array): Promise<number> {
    const appending = this.#queue.then(() => this.#append(payload));
    this.#queue = appending.catch(() => undefined);
    return appending;
  }

  /**
   * True when an entry of `payloadBytes` fits under `maxBytes` now.
   *
   * @example
   * if (!wal.hasRoomFor(bytes.byteLength)) source.pause();
   */
  hasRoomFor(payloadBytes: number): boolean {
    return this.bytes + FRAME_HEADER + SEGMENT_MAGIC.byteLength + payloadBytes <= this.#maxBytes;
  }

  /**
   * Resolves once an entry of `payloadBytes` fits (after checkpoints truncated the log); rejects
   * when `signal` aborts, or at once when the entry can never fit.
   *
   * @example
   * await wal.waitForRoom(bytes.byteLength, signal);
   */
  async waitForRoom(payloadBytes: number, signal: AbortSignal): Promise<void> {
    if (FRAME_HEADER + payloadBytes + SEGMENT_MAGIC.byteLength > this.#maxBytes) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `write-ahead log ${this.directory}: an entry of ${payloadBytes} bytes can never fit under maxBytes (${this.#maxBytes}); raise maxBytes or read fewer records at once`,
      );
    }
    while (!this.hasRoomFor(payloadBytes)) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#roomWaiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /**
   * Deletes the segments whose every entry is at or before `sequence`.
   *
   * @example
   * await wal.truncateThrough(checkpoint.walSequence);
   */
  truncateThrough(sequence: number): Promise<void> {
    const truncating = this.#queue.then(() => this.#truncate(sequence));
    this.#queue = truncating.catch(() => undefined);
    return truncating;
  }

  /**
   * Closes the segment being written.
   *
   * @example
   * await wal.close();
   */
  async close(): Promise<void> {
    await this.#queue;
    const active = this.#active;
    this.#active = undefined;
    await active?.file.close();
  }

  async #append(payload: Uint8Array): Promise<number> {
    if (!this.#opened) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `write-ahead log ${this.directory}: open() it first`,
      );
    }
    this.#assertWritable();
    const sequence = this.#next++;
    const frame = encodeFrame(sequence, payload);
    let segment: Segment | undefined;
    try {
      if (this.#active === undefined || this.#active.segment.bytes >= this.#segmentBytes) {
        await this.#roll(sequence);
      }
      const active = this.#active as { segment: Segment; file: DurableFile };
      segment = active.segment;
      segment.bytes += frame.byteLength;
      await active.file.write(frame);
      await active.file.sync();
      segment.last = sequence;
      return sequence;
    } catch (error) {
      // Never append after a failed write: the segment may end in a torn entry.
      const active = this.#active;
      this.#active = undefined;
      await active?.file.close().catch(() => undefined);
      throw this.#failure(error, payload.byteLength);
    }
  }

  async #roll(firstSequence: number): Promise<void> {
    const previous = this.#active;
    this.#active = undefined;
    await previous?.file.close();
    const name = `segment-${String(firstSequence).padStart(16, "0")}.wal`;
    const file = await this.#fs.open(join(this.directory, name), "create");
    const segment: Segment = { name, first: firstSequence, last: firstSequence - 1, bytes: 0 };
    this.#segments.push(segment);
    this.#active = { segment, file };
    segment.bytes += SEGMENT_MAGIC.byteLength;
    await file.write(SEGMENT_MAGIC);
    await this.#fs.syncDirectory(this.directory);
  }

  async #truncate(sequence: number): Promise<void> {
    this.#assertWritable();
    for (const segment of [...this.#segments]) {
      if (segment.last > sequence) continue;
      if (segment === this.#active?.segment) {
        // Everything written so far is used: the next append starts a new segment.
        const active = this.#active;
        this.#active = undefined;
        await active.file.close();
      }
      await this.#fs.remove(join(this.directory, segment.name));
      this.#segments.splice(this.#segments.indexOf(segment), 1);
    }
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #failure(error: unknown, payloadBytes: number): SluiceError {
    const code = errorCode(error);
    if (code === "ENOSPC" || code === "EDQUOT") {
      return new SluiceError(
        "SLUICE_DISK_FULL",
        `write-ahead log ${this.directory}: the disk is full (${code}) while writing ${payloadBytes} bytes of received records; they were not acknowledged, so the source delivers them again. Free space on that disk or move the checkpoint folder.`,
        { cause: error },
      );
    }
    if (error instanceof SluiceError) return error;
    return new SluiceError(
      "SLUICE_CHECKPOINT_WRITE_FAILED",
      `write-ahead log ${this.directory}: cannot write ${payloadBytes} bytes: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function encodeFrame(sequence: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.byteLength, true);
  view.setFloat64(8, sequence, true);
  frame.set(payload, FRAME_HEADER);
  view.setUint32(4, crc32(frame.subarray(8)), true);
  return frame;
}

function readSegment(bytes: Uint8Array): { frames: WalEntry[]; intact: boolean } {
  const frames: WalEntry[] = [];
  if (bytes.byteLength < SEGMENT_MAGIC.byteLength)
    return { frames, intact: bytes.byteLength === 0 };
  for (let i = 0; i < SEGMENT_MAGIC.byteLength; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) return { frames, intact: false };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = SEGMENT_MAGIC.byteLength;
  while (position < bytes.byteLength) {
    if (bytes.byteLength - position < FRAME_HEADER) return { frames, intact: false };
    const length = view.getUint32(position, true);
    const end = position + FRAME_HEADER + length;
    if (end > bytes.byteLength) return { frames, intact: false };
    const checked = bytes.subarray(position + 8, end);
    if (crc32(checked) !== view.getUint32(position + 4, true)) return { frames, intact: false };
    frames.push({
      sequence: view.getFloat64(position + 8, true),
      payload: bytes.slice(position + FRAME_HEADER, end),
    });
    position = end;
  }
  return { frames, intact: true };
}
