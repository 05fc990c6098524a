import { SluiceError } from "../errors/sluice-error.js";

/** The side of a receiver's supervisor a `Receiver` talks to. */
export interface ReceiverHost<T> {
  store(records: ReadonlyArray<T>): void;
  reportError(message: string, error: unknown): void;
  restart(message: string, error: unknown, delayMs: number | undefined): void;
  stop(message: string, error: unknown): void;
  isStarted(): boolean;
  isStopped(): boolean;
}

/**
 * A custom source of records, like Spark's `Receiver`: `onStart` sets up receiving (sockets,
 * subscriptions, timers) and returns without blocking; incoming records go to `store`; `onStop`
 * tears it down. Records stored between two batch ticks form the next batch.
 *
 * @example
 * class TickerReceiver extends Receiver<string> {
 *   private timer?: NodeJS.Timeout;
 *   onStart() {
 *     this.timer = setInterval(() => this.store([new Date().toISOString()]), 100);
 *   }
 *   onStop() {
 *     clearInterval(this.timer);
 *   }
 * }
 * const ticks = ctx.receiverStream(new TickerReceiver());
 */
export abstract class Receiver<T> {
  private host: ReceiverHost<T> | undefined;

  /** Starts receiving; called when the context starts (and on restart). */
  abstract onStart(): void | Promise<void>;

  /** Stops receiving and releases what `onStart` set up. */
  abstract onStop(): void | Promise<void>;

  /** The name listeners see (default: the class name). */
  get name(): string {
    return this.constructor.name;
  }

  /** Hands records to Sluice; they join the next batch. */
  store(records: ReadonlyArray<T>): void {
    this.requireHost("store").store(records);
  }

  /** Reports an error to listeners without stopping the receiver. */
  reportError(message: string, error?: unknown): void {
    this.requireHost("reportError").reportError(message, error);
  }

  /** Stops the receiver (`onStop`) and starts it again after a delay (default 2 s). */
  restart(message: string, error?: unknown, delayMs?: number): void {
    this.requireHost("restart").restart(message, error, delayMs);
  }

  /** Stops the receiver for good (the context keeps running). */
  stop(message: string, error?: unknown): void {
    this.requireHost("stop").stop(message, error);
  }

  /** True while the receiver is started. */
  isStarted(): boolean {
    return this.host?.isStarted() ?? false;
  }

  /** True once the receiver has stopped (or before it started). */
  isStopped(): boolean {
    return this.host?.isStopped() ?? true;
  }

  /** True once the receiver feeds a stream. */
  isAttached(): boolean {
    return this.host !== undefined;
  }

  /** Connects the receiver to its input stream; a receiver serves one stream only. */
  attach(host: ReceiverHost<T>): void {
    if (this.host !== undefined) throw alreadyAttached(this.name);
    this.host = host;
  }

  private requireHost(operation: string): ReceiverHost<T> {
    if (this.host === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `receiver ${this.name}: ${operation} before the receiver was given to ctx.receiverStream`,
      );
    }
    return this.host;
  }
}

/**
 * The error for a receiver given to a second stream.
 *
 * @example
 * throw alreadyAttached(receiver.name);
 */
export function alreadyAttached(name: string): SluiceError {
  return new SluiceError(
    "SLUICE_ILLEGAL_STATE",
    `receiver ${name} already feeds a stream; create one receiver per receiverStream`,
  );
}
