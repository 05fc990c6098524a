import type { Logger } from "pino";
import type { SourceDeadLetters } from "../../connector/tokens.js";
import { SluiceError } from "../../errors/sluice-error.js";

/** What the file source does with a record it cannot read (`onInvalidRecord`). */
export type InvalidRecordPolicy = "fail" | "skip" | "deadLetter";

/** One record the file source cannot read, and where it is. */
export interface InvalidRecord {
  readonly file: string;
  /** Byte position of the record's first byte in the file. */
  readonly start: number;
  /** Why it cannot be read, to follow `the record in "<file>" at byte <start> `. */
  readonly problem: string;
  /** The record's bytes, or at least its first ones when it is too long to hold. */
  readonly bytes: Uint8Array;
  /** True for a record longer than maxRecordBytes: a dead letter keeps only its first KiB. */
  readonly truncated: boolean;
  /**
   * How a dead letter's `record` holds the bytes: UTF-8 text (default), or base64 for binary
   * records, which text would garble.
   */
  readonly encoding?: "text" | "base64";
}

/** How much of a record a dead letter keeps when the whole record is too long to hold. */
const TRUNCATED_RECORD_BYTES = 1024;
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Applies `onInvalidRecord` to the records a source cannot read: `"fail"` gives the error that
 * stops the job; `"skip"` sends the record to the dead letters when the job has them
 * (`ctx.deadLetters`), else logs a warning with a running count; `"deadLetter"` always sends it
 * to the dead letters (`connect` fails when the job has none). Nothing is dropped unreported.
 *
 * @example
 * const invalid = new InvalidRecords("skip", "source:file#1", logger, () => undefined);
 * const error = invalid.report({ file: "a.csv", start: 4, problem: "is bad", bytes, truncated: false });
 */
export class InvalidRecords {
  readonly #policy: InvalidRecordPolicy;
  readonly #operation: string;
  readonly #logger: Logger;
  readonly #deadLetters: () => SourceDeadLetters | undefined;
  #skipped = 0;

  constructor(
    policy: InvalidRecordPolicy,
    connectorId: string,
    logger: Logger,
    deadLetters: () => SourceDeadLetters | undefined,
  ) {
    this.#policy = policy;
    this.#operation = `source(${connectorId})`;
    this.#logger = logger;
    this.#deadLetters = deadLetters;
  }

  /** True when an invalid record stops the job (nothing needs to be read past it). */
  get fails(): boolean {
    return this.#policy === "fail";
  }

  /** Invalid records skipped with only a log line so far (no dead letters). */
  get skipped(): number {
    return this.#skipped;
  }

  /**
   * Throws when `"deadLetter"` has no dead letters to go to; called on connect, once the job's
   * `ctx.deadLetters(...)` (which may come after `ctx.source(...)`) has run.
   *
   * @example
   * invalid.assertReady();
   */
  assertReady(): void {
    if (this.#policy !== "deadLetter" || this.#deadLetters() !== undefined) return;
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      'file source: onInvalidRecord is "deadLetter" but the job has no dead-letter sink; add ctx.deadLetters(...) in the job module (a job config file has no dead-letter setting), or set onInvalidRecord to "skip" or "fail".',
    );
  }

  /**
   * Handles one invalid record: returns the error to raise under `"fail"`, else sends it to the
   * dead letters or logs it and returns `undefined` (the caller reads on past it).
   *
   * @example
   * const error = invalid.report(record);
   * if (error !== undefined) throw error;
   */
  report(record: InvalidRecord): SluiceError | undefined {
    const message = `the record in "${record.file}" at byte ${record.start} ${record.problem}`;
    if (this.#policy === "fail") {
      return new SluiceError(
        "SLUICE_INVALID_RECORD",
        `file source: ${message}. Fix or remove the file, or set onInvalidRecord: "skip" or "deadLetter" (with ctx.deadLetters(...)).`,
      );
    }
    const deadLetters = this.#deadLetters();
    if (deadLetters !== undefined) {
      deadLetters.capture({
        // Read before any batch holds it: written with the next batch, before its checkpoint.
        batchTime: undefined,
        operation: this.#operation,
        error: message,
        errorCode: "SLUICE_INVALID_RECORD",
        source: { partition: record.file, offset: String(record.start) },
        record: recordText(record),
      });
      return undefined;
    }
    // "deadLetter" without dead letters never gets here: connect refused it.
    this.#skipped++;
    this.#logger.warn(
      {
        file: record.file,
        position: record.start,
        problem: record.problem,
        invalidRecordsSkipped: this.#skipped,
      },
      "invalid record skipped",
    );
    return undefined;
  }
}

/** The record as a dead letter holds it: text (its first KiB when truncated) or base64. */
function recordText(record: InvalidRecord): string {
  const bytes = record.truncated ? record.bytes.subarray(0, TRUNCATED_RECORD_BYTES) : record.bytes;
  const text =
    record.encoding === "base64"
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")
      : decoder.decode(bytes);
  return record.truncated ? `${text}…` : text;
}
