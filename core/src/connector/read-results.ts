import { SluiceError } from "../errors/sluice-error.js";
import type { SourceRecordColumns } from "./record-columns.js";
import type { SourceRecord } from "./records.js";
import type { ReadResult } from "./source.js";

/**
 * Builds a `ReadResult` whose `ack` may be called once: `onSettled(undefined)` on success,
 * `onSettled(error)` on a nack (its promise, if any, is what `ack` returns).
 *
 * @example
 * return readResult(records, (error) => (error === undefined ? commit() : redeliver()));
 */
export function readResult(
  records: readonly SourceRecord[],
  onSettled: (error: unknown) => void | Promise<void>,
): ReadResult {
  let settled = false;
  return {
    records,
    ack(error?: unknown): void | Promise<void> {
      if (settled) {
        throw new SluiceError(
          "SLUICE_INVALID_ARGUMENT",
          "ack() was already called for this read result; each result is settled exactly once.",
        );
      }
      settled = true;
      return onSettled(error);
    },
  };
}

/**
 * A `ReadResult` of records held as columns (a byte batch): `records` is made from them on first
 * read; `ack` behaves as `readResult`'s.
 *
 * @example
 * return readColumnsResult(columns, (error) => (error === undefined ? forget() : redeliver()));
 */
export function readColumnsResult(
  columns: SourceRecordColumns,
  onSettled: (error: unknown) => void | Promise<void>,
): ReadResult {
  const { ack } = readResult([], onSettled);
  return {
    columns,
    get records(): readonly SourceRecord[] {
      return columns.records();
    },
    ack,
  };
}

/**
 * A read result with no records (after a pause, an abort, a close, or an idle poll).
 *
 * @example
 * if (paused) return emptyReadResult();
 */
export function emptyReadResult(): ReadResult {
  return readResult([], () => undefined);
}

/**
 * Records that were nacked and must be delivered again before anything new, in the order they
 * were first read (results may be nacked in any order): what §2.3 of docs/connectors.md asks of
 * a source that holds records in memory.
 *
 * @example
 * const redelivery = new RedeliveryQueue();
 * // in ack(error): redelivery.add(resultNumber, records);
 * // in read(): if (redelivery.size > 0) return readResult(redelivery.take(max), settle);
 * redelivery.byteLength; // bytes of the records waiting, toward a bound on memory held
 */
export class RedeliveryQueue {
  readonly #parts: { sequence: number; records: SourceRecord[] }[] = [];
  #size = 0;
  #byteLength = 0;

  /** Records waiting. */
  get size(): number {
    return this.#size;
  }

  /**
   * Bytes of the records waiting (values and keys), for a source that bounds what it holds in
   * memory by bytes as well as by records.
   */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** Queues the records of the read result numbered `sequence`. */
  add(sequence: number, records: readonly SourceRecord[]): void {
    if (records.length === 0) return;
    const index = this.#parts.findIndex((part) => part.sequence > sequence);
    const part = { sequence, records: [...records] };
    if (index === -1) this.#parts.push(part);
    else this.#parts.splice(index, 0, part);
    this.#size += records.length;
    this.#byteLength += bytesOf(records);
  }

  /** Takes up to `max` records, oldest first. */
  take(max: number): SourceRecord[] {
    const taken: SourceRecord[] = [];
    while (taken.length < max && this.#parts.length > 0) {
      const part = this.#parts[0] as { sequence: number; records: SourceRecord[] };
      taken.push(...part.records.splice(0, max - taken.length));
      if (part.records.length === 0) this.#parts.shift();
    }
    this.#size -= taken.length;
    this.#byteLength -= bytesOf(taken);
    return taken;
  }
}

function bytesOf(records: readonly SourceRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.value.byteLength + (record.key?.byteLength ?? 0);
  return bytes;
}
