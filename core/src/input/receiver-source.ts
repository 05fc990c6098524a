import { readResult } from "../connector/read-results.js";
import type { ReadResult, Source } from "../connector/source.js";
import { Wakeup } from "../connector/wakeup.js";
import { ReceivedRecord } from "./received-record.js";

/**
 * A `Receiver`'s records as a connector `Source`, so that receivers get what every source gets:
 * flow control, the write-ahead log with checkpointing, acknowledgement after output. What the
 * receiver stores waits here until a batch tick hands it over (`take`), as much as flow control
 * allows; records a failed batch gives back come first in a later batch. Receivers cannot replay,
 * so with checkpointing their records go through the write-ahead log.
 *
 * @example
 * const source = new ReceiverSource("TickerReceiver", () => Date.now());
 * source.store(["tick"]);
 * source.take(100)?.records.length; // 1
 */
export class ReceiverSource<T> implements Source {
  readonly #name: string;
  readonly #now: () => number;
  readonly #waiting: ReceivedRecord<T>[] = [];
  readonly #redelivery: ReceivedRecord<T>[] = [];
  readonly #wakeup = new Wakeup();
  #sequence = 0;
  #closed = false;

  constructor(name: string, now: () => number) {
    this.#name = name;
    this.#now = now;
  }

  /** Records stored and not yet handed to a batch. */
  get waiting(): number {
    return this.#waiting.length + this.#redelivery.length;
  }

  /** Keeps records the receiver stored (the receiver's `store`). */
  store(records: ReadonlyArray<T>): void {
    const at = this.#now();
    for (const record of records) {
      this.#waiting.push(new ReceivedRecord(record, this.#name, this.#sequence++, at));
    }
    this.#wakeup.notify();
  }

  /**
   * Hands over up to `maxRecords` waiting records (given back ones first), or `undefined` when
   * none wait.
   */
  take(maxRecords: number): ReadResult | undefined {
    if (this.waiting === 0 || maxRecords <= 0) return undefined;
    const fromRedelivery = this.#redelivery.splice(0, maxRecords);
    const records = fromRedelivery.concat(
      this.#waiting.splice(0, maxRecords - fromRedelivery.length),
    );
    return readResult(records, (error) => {
      // A failed batch gives its records back, ahead of what arrived since.
      if (error !== undefined) this.#redelivery.unshift(...records);
    });
  }

  async connect(): Promise<void> {}

  /** Waits for stored records and hands over what waits (for a reader that pulls). */
  async read(signal: AbortSignal, options?: { maxRecords?: number }): Promise<ReadResult> {
    while (this.waiting === 0 && !this.#closed && !signal.aborted) {
      await this.#wakeup.wait(signal);
    }
    return this.take(options?.maxRecords ?? this.waiting) ?? readResult([], () => undefined);
  }

  pause(): void {}

  resume(): void {}

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeup.notify();
  }

  /** Shown in logs instead of the records waiting. */
  toJSON(): string {
    return `receiver ${this.#name}`;
  }
}
