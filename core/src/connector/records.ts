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
  /**
   * Set when the external system's record has no value at all, as opposed to an empty one (a
   * Kafka tombstone: a delete of its key in a compacted topic); `value` is then empty.
   */
  readonly tombstone?: true;
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
  /**
   * Write the record with no value at all (`value` must then be empty): the Kafka sink writes
   * a tombstone (a null value), which deletes its key from a compacted topic. Sinks without
   * such a record write the empty value. A source's tombstone passes through unchanged.
   */
  readonly tombstone?: boolean;
  readonly headers?: RecordHeaders;
  readonly timestampMs?: number;
}
