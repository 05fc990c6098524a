import type { ConnectionLink, ConnectionSlot } from "./connection-slot.js";
import { emptyReadResult } from "./read-results.js";
import type { ReadResult } from "./source.js";
import { Wakeup } from "./wakeup.js";

/** The part of a source's `ConnectionSlot` its reads look at. */
type SlotView = Pick<
  ConnectionSlot<ConnectionLink>,
  "assertOpen" | "closed" | "link" | "notConnected"
>;

/**
 * The reads of a source that buffers what its broker pushes, and its flow-control state: `read`
 * returns what waits, else sleeps until `notify` (messages arrived, the connection was lost).
 * It returns an empty result at once while paused, closed or aborted (a pending read settles
 * promptly), and throws the connection's `NotConnectedError` when it is gone and nothing waits,
 * so that messages received before the loss are returned first.
 *
 * @example
 * const reads = new PushedReads(slot, () => buffer.length > 0);
 * onMessage = (message) => { buffer.push(message); reads.notify(); };
 * const result = await reads.read(signal, () => take(options?.maxRecords));
 */
export class PushedReads {
  readonly #wakeup = new Wakeup();
  readonly #slot: SlotView;
  readonly #ready: () => boolean;
  #paused = false;

  /**
   * @param slot the source's connection.
   * @param ready true when messages wait to be read.
   */
  constructor(slot: SlotView, ready: () => boolean) {
    this.#slot = slot;
    this.#ready = ready;
  }

  /** True while flow control paused the source. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Wakes a pending read to look again. */
  notify(): void {
    this.#wakeup.notify();
  }

  /** Reads return nothing until `resume`; a pending one settles now. */
  pause(): void {
    this.#paused = true;
    this.#wakeup.notify();
  }

  /** Reads return what waits again. */
  resume(): void {
    this.#paused = false;
    this.#wakeup.notify();
  }

  /**
   * Returns `take()` once messages wait (`take` is called only then), an empty result while
   * paused, closed or aborted, or throws when the connection is gone and nothing waits.
   *
   * @example
   * read(signal, options) { return this.#reads.read(signal, () => this.#take(options?.maxRecords)); }
   */
  async read(signal: AbortSignal, take: () => ReadResult): Promise<ReadResult> {
    this.#slot.assertOpen();
    for (;;) {
      if (this.#paused || this.#slot.closed || signal.aborted) return emptyReadResult();
      if (this.#ready()) return take();
      if (this.#slot.link === undefined) throw this.#slot.notConnected();
      await this.#wakeup.wait(signal);
    }
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
