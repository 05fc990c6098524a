import type { Logger } from "pino";
import {
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_BACKOFF,
  type Delay,
  realDelay,
} from "../connector/backoff.js";
import { backoffRequest, isNotConnected } from "../connector/control-flow.js";
import type { SinkRecord } from "../connector/records.js";
import type { Sink, WriteBatchContext } from "../connector/sink.js";

/** How a `SinkSession` retries. */
export interface SinkSessionOptions {
  readonly backoff?: BackoffPolicy;
  /** The wait between attempts; tests pass one that records the delays and returns at once. */
  readonly delay?: Delay;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Give up after this many failed attempts in a row (default: never). */
  readonly maxAttempts?: number;
  /**
   * Once aborted, a failed attempt is not followed by another (a stop that does not drain): the
   * write fails with the attempt's error instead of waiting for the server. A first attempt still runs.
   */
  readonly retriesEnd?: AbortSignal;
  /** Handed to `writeBatch` as `WriteBatchContext.waitsEnd`: when to stop waiting for answers. */
  readonly waitsEnd?: AbortSignal;
}

/**
 * The framework's side of the sink contract: connects lazily, and when a write or a connect
 * fails with `NotConnectedError` reconnects with exponential backoff and writes the same batch
 * again; waits as asked on `BackoffError`. Any other error is rethrown (the batch fails).
 *
 * @example
 * const session = new SinkSession(sink);
 * await session.write(records, { batchTime, partition: 0, idempotencyKey }, signal);
 */
export class SinkSession {
  readonly #sink: Sink;
  readonly #backoff: BackoffPolicy;
  readonly #delay: Delay;
  readonly #random: () => number;
  readonly #logger: Logger | undefined;
  readonly #maxAttempts: number;
  readonly #retriesEnd: AbortSignal | undefined;
  readonly #waitsEnd: AbortSignal | undefined;
  #connected = false;

  constructor(sink: Sink, options: SinkSessionOptions = {}) {
    this.#sink = sink;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#delay = options.delay ?? realDelay;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    this.#retriesEnd = options.retriesEnd;
    this.#waitsEnd = options.waitsEnd;
  }

  /**
   * Writes one partition of one batch, reconnecting and retrying as the contract says.
   *
   * @example
   * await session.write(records, context, signal);
   */
  async write(
    records: readonly SinkRecord[],
    context: WriteBatchContext,
    signal: AbortSignal,
  ): Promise<void> {
    // Made at the first failure only, so a write that succeeds at once costs no signal.
    let retrying: AbortSignal | undefined;
    const retrySignal = (): AbortSignal =>
      (retrying ??=
        this.#retriesEnd === undefined ? signal : AbortSignal.any([signal, this.#retriesEnd]));
    for (let failures = 0; ; ) {
      signal.throwIfAborted();
      try {
        if (!this.#connected) {
          await this.#sink.connect(failures === 0 ? signal : retrySignal());
          this.#connected = true;
        }
        await this.#sink.writeBatch(records, this.#contextFor(context));
        return;
      } catch (error) {
        if (signal.aborted || this.#retriesEnd?.aborted) throw error;
        const requested = backoffRequest(error);
        if (!isNotConnected(error) && requested === null) throw error;
        failures++;
        if (failures >= this.#maxAttempts) throw error;
        if (isNotConnected(error)) this.#connected = false;
        const wait = requested ?? backoffDelay(this.#backoff, failures, this.#random);
        this.#logger?.warn(
          { err: error, batchTime: context.batchTime, attempt: failures, retryInMs: wait },
          "sink write failed; retrying",
        );
        await this.#delay(wait, retrySignal());
      }
    }
  }

  // The signals that end a write's retries and waits, when there are any.
  #contextFor(context: WriteBatchContext): WriteBatchContext {
    const retriesEnd = this.#retriesEnd;
    const waitsEnd = this.#waitsEnd;
    if (retriesEnd === undefined && waitsEnd === undefined) return context;
    return {
      ...context,
      ...(retriesEnd === undefined ? {} : { retriesEnd }),
      ...(waitsEnd === undefined ? {} : { waitsEnd }),
    };
  }

  /** True when the caller already connected the sink. */
  markConnected(): void {
    this.#connected = true;
  }
}
