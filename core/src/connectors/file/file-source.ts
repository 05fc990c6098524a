import { type FSWatcher, watch } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { EndOfInputError, NotConnectedError } from "../../connector/control-flow.js";
import {
  emptyReadResult,
  RedeliveryQueue,
  readColumnsResult,
  readResult,
} from "../../connector/read-results.js";
import { SourceRecordColumns } from "../../connector/record-columns.js";
import type { SourceRecord } from "../../connector/records.js";
import type { ReadOptions, ReadResult, SeekOptions, Source } from "../../connector/source.js";
import type { SourceDeadLetters } from "../../connector/tokens.js";
import { Wakeup } from "../../connector/wakeup.js";
import { SluiceError } from "../../errors/sluice-error.js";
import { isDataFileName } from "./file-names.js";
import type { FileSourceConfig } from "./file-source-config.js";
import { InvalidRecords } from "./invalid-records.js";
import { LineColumns } from "./line-columns.js";
import {
  csvScanner,
  lineScanner,
  parseCsvFields,
  type RawRecord,
  splitCsvRecords,
  splitLines,
  uniqueColumnNames,
} from "./record-splitting.js";
import { firstInvalidUtf8Byte } from "./utf8-validity.js";

const FIRST_CHUNK_BYTES = 64 * 1024;
/** The largest chunk read at once when lines are short and a read asks for many of them. */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** A read of lines stops past this many bytes (value offsets are 32-bit). */
const MAX_READ_BYTES = 256 * 1024 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const NO_HEADERS = Object.freeze({});
const decoder = new TextDecoder("utf-8", { fatal: false });
const encoder = new TextEncoder();

/** A data file the source knows about, and how far it has read it. */
interface TrackedFile {
  readonly name: string;
  readonly mtimeMs: number;
  /** Byte position of the next unread record. */
  position: number;
  /** CSV column names, read from the file's first row. */
  columns?: string[];
}

/** What a `FileSource` learns from its registry besides config, logger and offsets. */
export interface FileSourceOptions {
  /** The connector's id, for dead letters (`source(<id>)`); default `source:file`. */
  readonly id?: string;
  /** The job's dead letters, looked up when needed (a job may add them after its sources). */
  readonly deadLetters?: () => SourceDeadLetters | undefined;
}

/**
 * The built-in `file` source: reads the files moved into a folder, record by record, with the
 * file name as partition and the byte position after each record as offset (replayable). In
 * `lines` format a read hands over the lines of one file as a byte batch (`SourceRecordColumns`)
 * and stops at the end of that file; `jsonl` and `csv` check or convert each record and hand
 * over records, possibly of several files. In `binary` format a read hands over one file's
 * records of `recordLength` bytes as a byte batch too.
 */
export class FileSource implements Source {
  readonly #config: FileSourceConfig;
  readonly #logger: Logger;
  readonly #committed: ReadonlyMap<string, string>;
  readonly #invalid: InvalidRecords;
  readonly #known = new Map<string, TrackedFile | "skipped">();
  readonly #pending: TrackedFile[] = [];
  readonly #redelivery = new RedeliveryQueue();
  readonly #wakeup = new Wakeup();
  #watcher: FSWatcher | undefined;
  #initialised = false;
  #connected = false;
  #paused = false;
  #closed = false;
  #dirty = true;
  #lastScanAt = 0;
  #endMarkerSeen = false;
  #reads = 0;
  /** Bytes per line (with its ending) in the last read of lines, to size the next read's chunk. */
  #bytesPerLine = 0;
  #seek: { offsets: ReadonlyMap<string, string>; firstRunStartedAtMs: number } | undefined;

  constructor(
    config: FileSourceConfig,
    logger: Logger,
    committedOffsets: ReadonlyMap<string, string>,
    options: FileSourceOptions = {},
  ) {
    this.#config = config;
    this.#logger = logger;
    this.#committed = committedOffsets;
    this.#invalid = new InvalidRecords(
      config.onInvalidRecord,
      options.id ?? "source:file",
      logger,
      options.deadLetters ?? (() => undefined),
    );
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    this.#invalid.assertReady();
    const directory = this.#config.directory;
    try {
      if (!(await stat(directory)).isDirectory()) {
        throw new NotConnectedError(`"${directory}" is not a folder; point "directory" at one.`);
      }
    } catch (error) {
      if (error instanceof NotConnectedError) throw error;
      throw new NotConnectedError(`cannot open the folder "${directory}": ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (!this.#initialised) {
      await this.#scan(true);
      this.#initialised = true;
    }
    this.#watch();
    this.#connected = true;
    this.#dirty = true;
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    this.#assertOpen();
    if (!this.#connected) throw new NotConnectedError("the file source is not connected");
    // Flow control's hint: fewer records per read; the rest stays on disk, nothing in memory.
    const max = Math.min(this.#config.maxRecordsPerRead, options?.maxRecords ?? Infinity);
    for (;;) {
      if (this.#redelivery.size > 0) return this.#result(this.#redelivery.take(max));
      if (this.#paused || this.#closed || signal.aborted) return emptyReadResult();
      if (this.#dirty || Date.now() - this.#lastScanAt >= this.#config.pollIntervalMs) {
        await this.#scan(false);
      }
      const read = await this.#readPending(max);
      if (read instanceof SourceRecordColumns) return this.#columnsResult(read);
      if (read.length > 0) return this.#result(read);
      if (this.#endMarkerSeen && this.#pending.length === 0) {
        throw new EndOfInputError(
          `the end marker "${this.#config.endMarker}" arrived and every file before it was read`,
        );
      }
      await this.#wakeup.wait(signal, this.#config.pollIntervalMs);
    }
  }

  /**
   * Resumes from a checkpoint: files named in `offsets` continue after their byte offset; other
   * files are read from the start, except — with `startAt: "latest"` — those already in the
   * folder (by change time) when the job's first run started, which that run skipped too.
   */
  seek(offsets: ReadonlyMap<string, string>, options: SeekOptions): void {
    if (this.#initialised) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "file source: seek() must come before the first connect()",
      );
    }
    this.#seek = { offsets: new Map(offsets), firstRunStartedAtMs: options.firstRunStartedAtMs };
  }

  pause(): void {
    this.#paused = true;
    this.#wakeup.notify();
  }

  resume(): void {
    this.#paused = false;
    this.#wakeup.notify();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connected = false;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#wakeup.notify();
  }

  #result(records: SourceRecord[]): ReadResult {
    const sequence = this.#reads++;
    return readResult(records, (error) => {
      if (error !== undefined) this.#redelivery.add(sequence, records);
      else this.#wakeup.notify();
    });
  }

  #columnsResult(columns: SourceRecordColumns): ReadResult {
    const sequence = this.#reads++;
    return readColumnsResult(columns, (error) => {
      if (error !== undefined) this.#redelivery.add(sequence, columns.records());
      else this.#wakeup.notify();
    });
  }

  #watch(): void {
    if (this.#watcher !== undefined) return;
    try {
      this.#watcher = watch(this.#config.directory, { persistent: false }, () => {
        this.#dirty = true;
        this.#wakeup.notify();
      });
      this.#watcher.on("error", () => {
        // The folder went away or the watch broke; listing on every poll interval still works.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined;
    }
  }

  // Lists the folder and queues files not seen before, oldest first.
  async #scan(initial: boolean): Promise<void> {
    this.#dirty = false;
    this.#lastScanAt = Date.now();
    let entries: string[];
    try {
      entries = await readdir(this.#config.directory);
    } catch (error) {
      this.#connected = false;
      throw new NotConnectedError(
        `cannot list the folder "${this.#config.directory}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    const fresh: TrackedFile[] = [];
    for (const name of entries) {
      if (this.#known.has(name)) continue;
      if (name === this.#config.endMarker) {
        this.#known.set(name, "skipped");
        this.#endMarkerSeen = true;
        continue;
      }
      if (!isDataFileName(name)) continue;
      const info = await stat(join(this.#config.directory, name)).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const seek = this.#seek;
      const committed = seek === undefined ? this.#committed.get(name) : seek.offsets.get(name);
      const skip =
        seek === undefined
          ? initial && this.#committed.size === 0 && this.#config.startAt === "latest"
          : committed === undefined &&
            this.#config.startAt === "latest" &&
            info.ctimeMs < seek.firstRunStartedAtMs;
      if (skip) {
        this.#known.set(name, "skipped");
        continue;
      }
      const position = committed === undefined ? 0 : Number(committed);
      if (!Number.isSafeInteger(position) || position < 0) {
        throw new SluiceError(
          "SLUICE_INVALID_ARGUMENT",
          `The checkpointed offset of "${name}" is "${committed}", not a byte position; the checkpoint belongs to another source.`,
        );
      }
      // A binary record's offset is the byte after it: always a whole number of records. Any
      // other offset would cut every later record in the wrong place.
      const recordLength = this.#config.recordLength;
      if (this.#config.format === "binary" && recordLength !== undefined) {
        if (position % recordLength !== 0) {
          throw new SluiceError(
            "SLUICE_INVALID_ARGUMENT",
            `The checkpointed offset of "${name}" is byte ${position}, not a whole number of ${recordLength}-byte records; the checkpoint was written with another recordLength or format.`,
          );
        }
      }
      const file: TrackedFile = { name, mtimeMs: info.mtimeMs, position };
      this.#known.set(name, file);
      if (position < info.size) fresh.push(file);
    }
    fresh.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#pending.push(...fresh);
  }

  // Records of the pending files, oldest first; in `lines` format the lines of one file as
  // columns (a read carries one partition's columns, so it stops at the end of that file).
  async #readPending(max: number): Promise<SourceRecord[] | SourceRecordColumns> {
    const records: SourceRecord[] = [];
    while (records.length < max && this.#pending.length > 0) {
      const file = this.#pending[0] as TrackedFile;
      let handle: FileHandle;
      try {
        handle = await open(join(this.#config.directory, file.name), "r");
      } catch (error) {
        this.#logger.warn(
          { file: file.name, position: file.position, err: error },
          "file disappeared before it was read to the end; the rest of it is skipped",
        );
        this.#pending.shift();
        continue;
      }
      let state: "done" | "more";
      let columns: SourceRecordColumns | undefined;
      try {
        if (this.#config.format === "lines") {
          const lines = new LineColumns(file.name, file.mtimeMs, max);
          const start = file.position;
          state = await this.#readLines(handle, file, lines, max);
          columns = lines.build();
          if (columns !== undefined) this.#bytesPerLine = (file.position - start) / columns.length;
        } else if (this.#config.format === "binary") {
          const binary = new LineColumns(file.name, file.mtimeMs, max);
          state = await this.#readBinary(handle, file, binary, max);
          columns = binary.build();
        } else {
          state = await this.#readFile(handle, file, records, max);
        }
      } finally {
        await handle.close();
      }
      if (state === "done") this.#pending.shift();
      if (columns !== undefined) return columns;
      if (state === "more") break;
    }
    return records;
  }

  // Adds lines of `file` to `out` up to `max`; "done" when the file is read to its end. Each
  // line's value is its bytes without the line ending (and a `\r` before it); nothing is blank
  // or invalid in this format except a line longer than maxRecordBytes.
  async #readLines(
    handle: FileHandle,
    file: TrackedFile,
    out: LineColumns,
    max: number,
  ): Promise<"done" | "more"> {
    const { size } = await handle.stat();
    const maxRecordBytes = this.#config.maxRecordBytes;
    // A chunk that holds the whole read when lines are like those of the last read.
    let chunkBytes = Math.min(
      MAX_CHUNK_BYTES,
      Math.max(FIRST_CHUNK_BYTES, Math.ceil(max * this.#bytesPerLine * 1.1)),
    );
    while (out.length < max && out.byteLength < MAX_READ_BYTES && file.position < size) {
      const length = Math.min(chunkBytes, size - file.position);
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, file.position);
      const chunk = buffer.subarray(0, bytesRead);
      const eof = file.position + bytesRead >= size;
      const chunkStart = file.position;
      out.beginChunk(chunk);
      let start = 0;
      let found = false;
      while (out.length < max) {
        let newline = chunk.indexOf(NEWLINE, start);
        let end = newline + 1;
        if (newline === -1) {
          // A last line without a newline counts only at the end of the file.
          if (!eof || start >= bytesRead) break;
          newline = bytesRead;
          end = bytesRead;
        }
        found = true;
        const stop =
          newline > start && chunk[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
        if (stop - start > maxRecordBytes) {
          const error = this.#invalid.report({
            file: file.name,
            start: chunkStart + start,
            problem: `is longer than maxRecordBytes (${maxRecordBytes}): ${stop - start} bytes; raise maxRecordBytes if such records are expected`,
            bytes: chunk.subarray(start, stop),
            truncated: true,
          });
          if (error !== undefined) {
            if (out.length === 0) throw error;
            return "more"; // hand over the lines before it; the next read reports it
          }
        } else {
          out.add(start, stop, chunkStart + end);
        }
        file.position = chunkStart + end;
        start = end;
      }
      if (found) continue;
      if (chunkBytes < maxRecordBytes) {
        chunkBytes = Math.min(chunkBytes * 2, maxRecordBytes);
        continue;
      }
      const error = await this.#pastTooLong(handle, file, chunk, size);
      if (error !== undefined) {
        if (out.length === 0) throw error;
        return "more"; // hand over the lines before it; the next read reports it
      }
      chunkBytes = FIRST_CHUNK_BYTES;
    }
    return file.position >= size ? "done" : "more";
  }

  // Adds the fixed-length records of `file` to `out` up to `max`, reading only whole records (at
  // most MAX_CHUNK_BYTES, or one record, at a time); "done" when the file is read to its end.
  // As with a last line without a newline, trailing bytes short of a record count only at the
  // end of the file (its size now): before that the record may still be completed. There they
  // are an invalid record, never dropped unreported.
  async #readBinary(
    handle: FileHandle,
    file: TrackedFile,
    out: LineColumns,
    max: number,
  ): Promise<"done" | "more"> {
    let { size } = await handle.stat();
    const recordLength = this.#config.recordLength ?? 1;
    const recordsPerChunk = Math.max(1, Math.floor(MAX_CHUNK_BYTES / recordLength));
    while (out.length < max && out.byteLength < MAX_READ_BYTES) {
      const whole = Math.floor((size - file.position) / recordLength);
      if (whole <= 0) break;
      const count = Math.min(whole, max - out.length, recordsPerChunk);
      const chunk = new Uint8Array(count * recordLength);
      const chunkStart = file.position;
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, chunkStart);
      // A file cut shorter since its size was read: what is there now is all there is.
      if (bytesRead < chunk.length) size = chunkStart + bytesRead;
      const records = Math.floor(bytesRead / recordLength);
      if (records === 0) break;
      // The records lie back to back from the chunk's start: each is added where it already is.
      out.beginChunk(chunk);
      for (let record = 0; record < records; record++) {
        const end = (record + 1) * recordLength;
        out.add(end - recordLength, end, chunkStart + end);
      }
      file.position = chunkStart + records * recordLength;
    }
    // A read that stopped at `max` has not reached the end of the file: the next one looks.
    const rest = size - file.position;
    if (out.length < max && rest > 0 && rest < recordLength) {
      const bytes = new Uint8Array(rest);
      const { bytesRead } = await handle.read(bytes, 0, rest, file.position);
      size = file.position + bytesRead;
      if (bytesRead > 0) {
        const error = this.#invalid.report({
          file: file.name,
          start: file.position,
          problem: `is ${bytesRead} bytes, short of recordLength (${recordLength}): the file's ${size} bytes are not a whole number of records`,
          bytes: bytes.subarray(0, bytesRead),
          truncated: false,
          encoding: "base64",
        });
        if (error !== undefined) {
          if (out.length === 0) throw error;
          return "more"; // hand over the records before it; the next read reports it
        }
        file.position = size;
      }
    }
    return file.position >= size ? "done" : "more";
  }

  // No record ends within maxRecordBytes of `file.position` (`chunk` holds its first bytes): it is
  // too long to hold. Reports it and, unless that stops the job (the error is returned), moves
  // past it (reading on in small chunks to find where it ends).
  async #pastTooLong(
    handle: FileHandle,
    file: TrackedFile,
    chunk: Uint8Array,
    size: number,
  ): Promise<SluiceError | undefined> {
    const start = file.position;
    const end = this.#invalid.fails ? size : await this.#endOfRecord(handle, start, size);
    const error = this.#invalid.report({
      file: file.name,
      start,
      problem: `is longer than maxRecordBytes (${this.#config.maxRecordBytes})${this.#invalid.fails ? "" : `: ${end - start} bytes`}; raise maxRecordBytes if such records are expected`,
      bytes: chunk,
      truncated: true,
    });
    if (error === undefined) file.position = end;
    return error;
  }

  // Appends records of `file` to `out` up to `max`; "done" when the file is read to its end.
  async #readFile(
    handle: FileHandle,
    file: TrackedFile,
    out: SourceRecord[],
    max: number,
  ): Promise<"done" | "more"> {
    const { size } = await handle.stat();
    if (this.#config.format === "csv" && this.#config.csv.header && file.columns === undefined) {
      const header = await this.#readHeader(handle, file, size);
      if (header === undefined) return "done";
    }
    let chunkBytes = FIRST_CHUNK_BYTES;
    while (out.length < max && file.position < size) {
      const length = Math.min(chunkBytes, size - file.position);
      const chunk = new Uint8Array(length);
      const { bytesRead } = await handle.read(chunk, 0, length, file.position);
      const eof = file.position + bytesRead >= size;
      const raw =
        this.#config.format === "csv"
          ? splitCsvRecords(chunk.subarray(0, bytesRead), eof, this.#config.csv.delimiter)
          : splitLines(chunk.subarray(0, bytesRead), eof);
      if (raw.length === 0) {
        if (chunkBytes < this.#config.maxRecordBytes) {
          chunkBytes = Math.min(chunkBytes * 2, this.#config.maxRecordBytes);
          continue;
        }
        const error = await this.#pastTooLong(handle, file, chunk.subarray(0, bytesRead), size);
        if (error !== undefined) {
          if (out.length === 0) throw error;
          return "more"; // hand over the records before it; the next read reports it
        }
        chunkBytes = FIRST_CHUNK_BYTES;
        continue;
      }
      const chunkStart = file.position;
      for (const record of raw) {
        if (out.length >= max) break;
        const value = this.#convert(record, file, chunkStart + record.start);
        if (value instanceof SluiceError) {
          if (out.length === 0) throw value;
          return "more"; // hand over the records before it; the next read reports it
        }
        file.position = chunkStart + record.end;
        if (value === "skip") continue;
        out.push({
          value,
          headers: NO_HEADERS,
          timestampMs: file.mtimeMs,
          partition: file.name,
          offset: String(file.position),
        });
      }
    }
    return file.position >= size ? "done" : "more";
  }

  // The record's value; "skip" for a blank line or an invalid record that went to the dead
  // letters or the log; the error to report for an invalid record under onInvalidRecord: "fail".
  #convert(record: RawRecord, file: TrackedFile, start: number): Uint8Array | "skip" | SluiceError {
    const format = this.#config.format;
    const bytes = record.bytes;
    let problem: string | undefined;
    let value: Uint8Array | undefined;
    const tooLong = bytes.byteLength > this.#config.maxRecordBytes;
    // JSON and CSV are text: decoding would silently put U+FFFD where invalid bytes are.
    const invalidByte = tooLong || format === "lines" ? undefined : firstInvalidUtf8Byte(bytes);
    if (tooLong) {
      problem = `is longer than maxRecordBytes (${this.#config.maxRecordBytes}): ${bytes.byteLength} bytes; raise maxRecordBytes if such records are expected`;
    } else if (format === "lines") {
      return bytes;
    } else if (invalidByte !== undefined) {
      problem = `is not valid UTF-8: its byte ${invalidByte} (byte ${start + invalidByte} of the file) cannot be read as text; write the file as UTF-8`;
    } else if (decoder.decode(bytes).trim().length === 0) {
      return "skip";
    } else if (format === "jsonl") {
      const text = decoder.decode(bytes);
      try {
        JSON.parse(text);
        value = bytes;
      } catch (error) {
        problem = `is not valid JSON (${messageOf(error)})`;
      }
    } else {
      const fields = record.malformed
        ? undefined
        : parseCsvFields(decoder.decode(bytes), this.#config.csv.delimiter);
      if (fields === undefined) {
        problem = `is not a well-formed CSV row: it ${record.malformed ?? "has text after a closing quote"}`;
      } else if (file.columns !== undefined && fields.length !== file.columns.length) {
        problem = `has ${fields.length} fields, the header has ${file.columns.length}`;
      } else {
        const columns = file.columns;
        const row = columns ? Object.fromEntries(columns.map((c, i) => [c, fields[i]])) : fields;
        value = encoder.encode(JSON.stringify(row));
      }
    }
    if (value !== undefined) return value;
    return (
      this.#invalid.report({
        file: file.name,
        start,
        problem: problem ?? "cannot be read",
        bytes,
        truncated: tooLong,
      }) ?? "skip"
    );
  }

  // Where the record starting at `start` ends (just past its newline, or the end of the file),
  // read in small chunks so that a record of any length costs no more memory than one chunk.
  async #endOfRecord(handle: FileHandle, start: number, size: number): Promise<number> {
    const scanner =
      this.#config.format === "csv" ? csvScanner(this.#config.csv.delimiter) : lineScanner();
    const chunk = new Uint8Array(FIRST_CHUNK_BYTES);
    for (let position = start; position < size; ) {
      const { bytesRead } = await handle.read(
        chunk,
        0,
        Math.min(chunk.length, size - position),
        position,
      );
      if (bytesRead === 0) break;
      const newline = scanner.scan(chunk.subarray(0, bytesRead), 0);
      if (newline !== -1) return position + newline + 1;
      position += bytesRead;
    }
    return size;
  }

  async #readHeader(
    handle: FileHandle,
    file: TrackedFile,
    size: number,
  ): Promise<string[] | undefined> {
    let chunkBytes = FIRST_CHUNK_BYTES;
    for (;;) {
      const length = Math.min(chunkBytes, size);
      const chunk = new Uint8Array(length);
      const { bytesRead } = await handle.read(chunk, 0, length, 0);
      const delimiter = this.#config.csv.delimiter;
      const first = splitCsvRecords(chunk.subarray(0, bytesRead), bytesRead >= size, delimiter)[0];
      if (first !== undefined) {
        const invalidByte = firstInvalidUtf8Byte(first.bytes);
        if (invalidByte !== undefined) {
          throw new SluiceError(
            "SLUICE_INVALID_RECORD",
            `file source: the header row of "${file.name}" is not valid UTF-8 (byte ${invalidByte} of the file); write the file as UTF-8, or set csv.header: false.`,
          );
        }
        const names = first.malformed
          ? undefined
          : parseCsvFields(decoder.decode(first.bytes), delimiter);
        if (names === undefined) {
          throw new SluiceError(
            "SLUICE_INVALID_RECORD",
            `file source: the header row of "${file.name}" is not well-formed CSV; fix the file or set csv.header: false.`,
          );
        }
        const { columns, renamed } = uniqueColumnNames(names);
        if (renamed.length > 0) {
          this.#logger.warn(
            { file: file.name, renamed },
            "duplicate CSV column names renamed with a suffix (id, id_2, ...)",
          );
        }
        file.columns = columns;
        if (file.position < first.end) file.position = first.end;
        return columns;
      }
      if (bytesRead >= size) return undefined;
      if (chunkBytes >= this.#config.maxRecordBytes) {
        throw new SluiceError(
          "SLUICE_INVALID_RECORD",
          `file source: the header row of "${file.name}" is longer than maxRecordBytes (${this.#config.maxRecordBytes}).`,
        );
      }
      chunkBytes = Math.min(chunkBytes * 2, this.#config.maxRecordBytes);
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the file source was closed");
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
