import type { SinkRecord } from "./records.js";

/**
 * Where a batch written to a sink comes from. `idempotencyKey` is the same when a batch is
 * written again after a crash (`jobId/batchTime/outputIndex/partition`), so a sink that
 * keys its writes by it overwrites instead of duplicating.
 *
 * @example
 * await sink.writeBatch(records, { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "job/1700000000000/0/0" });
 */
export interface WriteBatchContext {
  /** The batch time in epoch milliseconds (a multiple of the batch interval). */
  readonly batchTime: number;
  /** The index of the partition of the batch these records belong to. */
  readonly partition: number;
  readonly idempotencyKey: string;
  /**
   * Which copy of the job wrote the batch, when several write the same batch times and
   * partitions (cluster mode): `keyed-<n>` for the outputs of keyed partition n (the same in
   * whichever process computes it, so a batch computed again lands where it did), and
   * `process-<processId>` for the outputs that run where the input is read. Absent when one
   * process runs the job. A sink that names what it writes by batch time and partition (as the
   * file sink names its files) includes it, or two copies' writes replace each other.
   */
  readonly writer?: string;
  /**
   * Aborted once the job stops without draining (`ctx.stop()`): a sink that retries inside
   * `writeBatch` (a request the server asked to repeat, a write timeout) makes no further
   * attempt and ends the wait before one, rejecting with its last error; a write waiting for
   * the server's answer (acknowledgements, confirms, a client library's own retries) stops
   * waiting once `waitsEnd` aborts. A write begun after it aborted still makes its first
   * attempt. The batch is not acknowledged, and a restart writes it again. Absent where nothing
   * ends retries early.
   */
  readonly retriesEnd?: AbortSignal;
  /**
   * Aborted a grace period after `retriesEnd` (the stop's `interruptAfter`, 2 s by default, as
   * Spark waits for the jobs running before it interrupts them): a write still waiting for its
   * server's answer then stops waiting and rejects with an I/O error. Absent where it is not
   * told apart from `retriesEnd`: then wait on `retriesEnd`.
   */
  readonly waitsEnd?: AbortSignal;
}

/**
 * `context` with `writer` added when there is one (cluster mode), as sinks are told it.
 *
 * @example
 * withWriter({ batchTime: 1000, partition: 0, idempotencyKey: "job/1000/0/0" }, "keyed-3").writer; // "keyed-3"
 */
export function withWriter(
  context: WriteBatchContext,
  writer: string | undefined,
): WriteBatchContext {
  return writer === undefined ? context : { ...context, writer };
}

/**
 * What a sink declares about itself.
 *
 * @example
 * const capabilities: SinkCapabilities = { idempotent: true };
 */
export interface SinkCapabilities {
  /**
   * True when writing the same batch again (same `batchTime`, `partition` and
   * `idempotencyKey`) replaces the earlier write, so a replay after a crash leaves one copy.
   */
  readonly idempotent: boolean;
}

/**
 * A running sink connector. The full contract is in docs/connectors.md.
 *
 * @example
 * await sink.connect(signal);
 * await sink.writeBatch(records, { batchTime, partition: 0, idempotencyKey });
 * await sink.close();
 */
export interface Sink {
  /** Opens the connection; called before the first write and again after `NotConnectedError`. */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Writes one partition of one batch; resolves once the records are durable in the external
   * system. Calls for one sink are not concurrent.
   */
  writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void>;
  /** Waits for a write in progress, then releases everything; idempotent. */
  close(): Promise<void>;
}
