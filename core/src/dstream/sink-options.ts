import type { BackoffPolicy } from "../connector/backoff.js";
import type { SinkPlugin } from "../connector/plugin.js";
import type { SinkRecord } from "../connector/records.js";
import type { DStream } from "./dstream.js";

/** What `stream.sink(...)` accepts per record: a `SinkRecord`, raw bytes, or text (UTF-8). */
export type SinkInput = SinkRecord | Uint8Array | string;

/** Options of `stream.sink(...)`. */
export interface SinkOutputOptions {
  /** The connector's id in logs and errors (default `sink:<name>#<n>`). */
  readonly id?: string;
  /** How reconnects back off; default 100 ms doubling to 30 s, ±20%. */
  readonly backoff?: BackoffPolicy;
}

/**
 * Adds the output operation behind `stream.sink(...)`: the connector runtime's, handed to the
 * streams through their scope.
 */
export type AddSinkOutput = <T extends SinkInput>(
  stream: DStream<T>,
  sink: string | SinkPlugin,
  config: unknown,
  options?: SinkOutputOptions,
) => void;
