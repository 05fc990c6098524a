import { deserialize, serialize } from "node:v8";
import type { RecordHeaders, SourceRecord } from "../connector/records.js";

const NO_HEADERS: RecordHeaders = Object.freeze({});

/**
 * A record a `Receiver` stored, as the source record the connector runtime moves: it keeps the
 * value itself, and makes its bytes (V8's structured serialization) only when they are needed —
 * when the write-ahead log writes the record.
 *
 * @example
 * const record = new ReceivedRecord({ id: 1 }, "ListReceiver", 0, Date.now());
 * receivedValue(record); // { id: 1 }
 */
export class ReceivedRecord<T> implements SourceRecord {
  readonly headers = NO_HEADERS;
  readonly offset: string;
  /** The record's bytes, made on first use. */
  declare readonly value: Uint8Array;

  constructor(
    readonly received: T,
    readonly partition: string,
    sequence: number,
    readonly timestampMs: number,
  ) {
    this.offset = String(sequence);
    let bytes: Uint8Array | undefined;
    // An own, enumerable property (not a prototype getter), so a copy of the record made with
    // spread or Object.assign still has its bytes.
    Object.defineProperty(this, "value", {
      enumerable: true,
      get: () => {
        bytes ??= serialize(received);
        return bytes;
      },
    });
  }
}

/**
 * The value a receiver stored: kept as is in memory, or read back from its bytes when the record
 * came from the write-ahead log after a restart.
 *
 * @example
 * stream.map((record) => receivedValue<number>(record));
 */
export function receivedValue<T>(record: SourceRecord): T {
  if (record instanceof ReceivedRecord) return record.received as T;
  return deserialize(record.value) as T;
}
