/**
 * Record headers: names to raw bytes. Bytes keep the record binary-safe end to end; decode
 * with `new TextDecoder().decode(headers[name])` where a header is text.
 */
export type RecordHeaders = Readonly<Record<string, Uint8Array>>;

/**
 * One record as a source hands it to Sluice: bytes first, with an opaque, checkpointable
 * position (`partition` + `offset`).
 *
 * @example
 * const record: SourceRecord = {
 *   value: new TextEncoder().encode("hello"),
 *   headers: {},
 *   timestampMs: Date.now(),
 *   partition: "orders.log",
 *   offset: "6",
 * };
 */
export interface SourceRecord {
  /** The payload, untouched. */
  readonly value: Uint8Array;
  /** The record key where the external system has one (Kafka key, MQTT topic, ...). */
  readonly key?: Uint8Array;
  readonly headers: RecordHeaders;
  /** When the external system stamped the record, else when the source received it. */
  readonly timestampMs: number;
  /** The stream the offset belongs to (a file, a Kafka topic-partition, a TCP peer). */
  readonly partition: string;
  /**
   * Where to resume after this record, opaque to Sluice. Replayable sources are handed the
   * last checkpointed offset per partition again when they are created
   * (`SourceContext.committedOffsets`).
   */
  readonly offset: string;
}

/**
 * One record as Sluice hands it to a sink. A `SourceRecord` is a `SinkRecord`, so a stream of
 * raw records can be written out unchanged.
 *
 * @example
 * await sink.writeBatch([{ value: new TextEncoder().encode("hi") }], context);
 */
export interface SinkRecord {
  readonly value: Uint8Array;
  readonly key?: Uint8Array;
  readonly headers?: RecordHeaders;
  readonly timestampMs?: number;
}
