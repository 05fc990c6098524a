import { emptyReadResult } from "../connectors/shared/read-results.js";
import type { ConnectionLink, ConnectionSlot } from "./connection-slot.js";
import type { ReadResult } from "./source.js";

/** What `readPushed` needs of a source whose broker pushes messages to it. */
export interface PushedReads {
  /** Woken when messages arrive, the connection is lost, or the source pauses or closes. */
  readonly wakeup: { wait(signal: AbortSignal): Promise<void> };
  /** The source's connection. */
  readonly slot: Pick<
    ConnectionSlot<ConnectionLink>,
    "assertOpen" | "closed" | "link" | "notConnected"
  >;
  /** True while flow control paused the source. */
  paused(): boolean;
  /** True when messages wait to be read. */
  ready(): boolean;
  /** Hands out messages that wait (called only when `ready`). */
  take(): ReadResult;
}

/**
 * The `read` of a source that buffers what its broker pushes: returns what waits, else sleeps
 * until something arrives. Returns an empty result at once while paused, closed or aborted (a
 * pending read settles promptly), and throws the connection's `NotConnectedError` when it is
 * gone and nothing waits, so that messages received before the loss are returned first.
 *
 * @example
 * read(signal, options) {
 *   return readPushed(signal, { wakeup, slot, paused: () => paused, ready: () => buffer.length > 0, take: () => take(options) });
 * }
 */
export async function readPushed(signal: AbortSignal, reads: PushedReads): Promise<ReadResult> {
  reads.slot.assertOpen();
  for (;;) {
    if (reads.paused() || reads.slot.closed || signal.aborted) return emptyReadResult();
    if (reads.ready()) return reads.take();
    if (reads.slot.link === undefined) throw reads.slot.notConnected();
    await reads.wakeup.wait(signal);
  }
}

/**
 * How many records one read hands out: at most the configured `maxRecordsPerRead` and flow
 * control's `maxRecords` hint, and at least one, so a source never answers a tiny hint with an
 * empty result in a loop.
 *
 * @example
 * const taken = buffer.splice(0, readSize(config.maxRecordsPerRead, options?.maxRecords));
 */
export function readSize(maxRecordsPerRead: number, maxRecords: number | undefined): number {
  return Math.max(1, Math.min(maxRecordsPerRead, maxRecords ?? Number.POSITIVE_INFINITY));
}
