import type { Logger } from "pino";
import {
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_BACKOFF,
  type Delay,
  realDelay,
} from "../connector/backoff.js";
import { backoffRequest, isEndOfInput, isNotConnected } from "../connector/control-flow.js";
import type { ReadOptions, ReadResult, Source } from "../connector/source.js";

/** How a `SourceSession` retries. */
export interface SourceSessionOptions {
  readonly backoff?: BackoffPolicy;
  /** The wait between attempts; tests pass one that records the delays and returns at once. */
  readonly delay?: Delay;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Give up after this many failed connects in a row (default: never). */
  readonly maxConnectAttempts?: number;
  /** True when the caller already connected the source. */
  readonly connected?: boolean;
  /** Told of every failed connect before the retry (to report it as a receiver error). */
  readonly onConnectFailure?: (error: unknown, attempt: number) => void;
  /**
   * Told when a read finds the connection lost, before reconnecting (acknowledgements sent on
   * it lately may have died with it).
   */
  readonly onConnectionLost?: () => void;
  /** Told after every connect that succeeded, the first one included. */
  readonly onConnected?: () => void;
}

/**
 * The framework's side of the source contract: connects lazily, reconnects with exponential
 * backoff on `NotConnectedError` (from `connect` or `read`), waits as asked on `BackoffError`,
 * and reports end of input as `undefined`. Any other error is fatal and rethrown.
 *
 * @example
 * const session = new SourceSession(source);
 * for (let result = await session.next(signal); result; result = await session.next(signal)) {
 *   await output(result.records);
 *   await result.ack();
 * }
 */
export class SourceSession {
  readonly #source: Source;
  readonly #backoff: BackoffPolicy;
  readonly #delay: Delay;
  readonly #random: () => number;
  readonly #logger: Logger | undefined;
  readonly #maxConnectAttempts: number;
  readonly #onConnectFailure: ((error: unknown, attempt: number) => void) | undefined;
  readonly #onConnectionLost: (() => void) | undefined;
  readonly #onConnected: (() => void) | undefined;
  #connected: boolean;
  #ended = false;
  #failedAttempts = 0;
  #reconnects = 0;

  constructor(source: Source, options: SourceSessionOptions = {}) {
    this.#source = source;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#delay = options.delay ?? realDelay;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#maxConnectAttempts = options.maxConnectAttempts ?? Number.POSITIVE_INFINITY;
    this.#connected = options.connected ?? false;
    this.#onConnectFailure = options.onConnectFailure;
    this.#onConnectionLost = options.onConnectionLost;
    this.#onConnected = options.onConnected;
  }

  /** True once the source reported end of input. */
  get ended(): boolean {
    return this.#ended;
  }

  /** How many times the session connected again after losing the connection. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /**
   * Connects, retrying with backoff while the source answers `NotConnectedError`.
   *
   * @example
   * await session.connect(signal);
   */
  async connect(signal: AbortSignal): Promise<void> {
    while (!this.#connected) {
      signal.throwIfAborted();
      try {
        await this.#source.connect(signal);
        this.#connected = true;
        this.#failedAttempts = 0;
        this.#onConnected?.();
      } catch (error) {
        if (signal.aborted || !isNotConnected(error)) throw error;
        this.#failedAttempts++;
        this.#onConnectFailure?.(error, this.#failedAttempts);
        if (this.#failedAttempts >= this.#maxConnectAttempts) throw error;
        const wait = backoffDelay(this.#backoff, this.#failedAttempts, this.#random);
        this.#logger?.warn(
          { err: error, attempt: this.#failedAttempts, retryInMs: wait },
          "source not connected; retrying",
        );
        await this.#delay(wait, signal);
      }
    }
  }

  /**
   * The next read result, or `undefined` once the source reached end of input; `options` is
   * passed to `Source.read` (flow control's `maxRecords` hint).
   *
   * @example
   * const result = await session.next(signal);
   */
  async next(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult | undefined> {
    for (;;) {
      if (this.#ended) return undefined;
      await this.connect(signal);
      try {
        const result = await (options === undefined
          ? this.#source.read(signal)
          : this.#source.read(signal, options));
        this.#failedAttempts = 0;
        return result;
      } catch (error) {
        if (signal.aborted) throw error;
        if (isEndOfInput(error)) {
          this.#ended = true;
          this.#logger?.info("source reached end of input");
          continue;
        }
        if (isNotConnected(error)) {
          this.#connected = false;
          this.#reconnects++;
          this.#logger?.warn({ err: error }, "source lost its connection; reconnecting");
          this.#onConnectionLost?.();
          continue;
        }
        const requested = backoffRequest(error);
        if (requested === null) throw error;
        this.#failedAttempts++;
        await this.#delay(
          requested ?? backoffDelay(this.#backoff, this.#failedAttempts, this.#random),
          signal,
        );
      }
    }
  }
}
