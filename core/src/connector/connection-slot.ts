import { SluiceError } from "../errors/sluice-error.js";
import { NotConnectedError } from "./control-flow.js";

/** What a connector keeps per open connection: whether it still works. */
export interface ConnectionLink {
  alive: boolean;
}

/** The metrics of a connector's connection, part of its `metrics` snapshot. */
export interface ConnectionMetrics {
  /** Successful connects (the first one and every reconnect). */
  readonly connects: number;
  /** Connections lost while in use. */
  readonly connectionLosses: number;
  /** Failed connects, lost connections, and the connector's own failures (refusals, failed batches). */
  readonly errors: number;
}

/** The counters behind `ConnectionMetrics`, which a `ConnectionSlot` keeps up to date. */
export type ConnectionCounters = { -readonly [K in keyof ConnectionMetrics]: number };

/** How `ConnectionSlot.connect` opens a connection and makes it ready. */
export interface ConnectSteps<O, L extends ConnectionLink> {
  /** Opens the connection (tries the brokers); a rejection fails the connect. */
  readonly open: () => Promise<O>;
  /** Makes it ready (channels, subscriptions, declarations) and returns its link. */
  readonly setUp: (opened: O) => Promise<L> | L;
  /** Drops an opened connection whose set-up failed, was aborted or came after `close`. */
  readonly discard: (opened: O) => unknown;
}

/**
 * The connection a source or sink of a broker holds, with the lifecycle the connector contract
 * asks for: `connect` does nothing while connected, a failed or aborted set-up leaves nothing
 * open, a lost connection is remembered as the `NotConnectedError` the next read or write
 * throws (so Sluice reconnects), and `close` is idempotent, waits for the write in progress and
 * refuses every later call with `SLUICE_CONNECTOR_CLOSED`.
 *
 * @example
 * const slot = new ConnectionSlot<ConnectionLink>("the MQTT sink", counters);
 * await slot.connect(signal, { open, setUp: (client) => watch(client), discard: (client) => client.end(true) });
 * const link = slot.require();
 */
export class ConnectionSlot<L extends ConnectionLink> {
  readonly #what: string;
  readonly #counters: ConnectionCounters;
  #link: L | undefined;
  #failure: NotConnectedError | undefined;
  #writing: Promise<unknown> | undefined;
  #closed = false;

  /**
   * @param what the connector as messages name it, e.g. `"the RabbitMQ source"`.
   * @param counters the connector's counters, updated in place.
   */
  constructor(what: string, counters: ConnectionCounters) {
    this.#what = what;
    this.#counters = counters;
  }

  /** The current connection, undefined while there is none. */
  get link(): L | undefined {
    return this.#link;
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when `link` is the current connection and still works. */
  current(link: L): boolean {
    return link.alive && link === this.#link;
  }

  /**
   * Throws `SLUICE_CONNECTOR_CLOSED` once the connector was closed.
   *
   * @example
   * slot.assertOpen();
   */
  assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", `${this.#what} was closed`);
    }
  }

  /**
   * Why there is no connection: the loss remembered, else "not connected".
   *
   * @example
   * if (slot.link === undefined) throw slot.notConnected();
   */
  notConnected(): NotConnectedError {
    return this.#failure ?? new NotConnectedError(`${this.#what} is not connected`);
  }

  /**
   * The working connection, or the `NotConnectedError` to throw when there is none.
   *
   * @example
   * const link = slot.require();
   */
  require(): L {
    const link = this.#link;
    if (link === undefined || !link.alive) throw this.notConnected();
    return link;
  }

  /**
   * Connects unless connected: opens, sets up, and keeps the link; resolves with the new link,
   * or undefined when one was already working. A failure counts as an error and discards what
   * was opened; so does an abort or a `close` during the set-up.
   *
   * @example
   * const link = await slot.connect(signal, { open, setUp, discard });
   * if (link !== undefined) logger.info("connected");
   */
  async connect<O>(signal: AbortSignal, steps: ConnectSteps<O, L>): Promise<L | undefined> {
    this.assertOpen();
    if (this.#link?.alive) return undefined;
    signal.throwIfAborted();
    let opened: O;
    try {
      opened = await steps.open();
    } catch (error) {
      this.#counters.errors++;
      throw error;
    }
    let link: L;
    try {
      link = await steps.setUp(opened);
      if (signal.aborted) throw signal.reason;
      this.assertOpen();
    } catch (error) {
      this.#counters.errors++;
      await steps.discard(opened);
      throw error;
    }
    this.#link = link;
    this.#failure = undefined;
    this.#counters.connects++;
    return link;
  }

  /**
   * Forgets `link` after it was lost, remembering `failure` for the next read or write; true
   * when it was the current connection of an open connector (counted as a loss), false when it
   * was already replaced or the connector closed (nothing to report).
   *
   * @example
   * if (slot.drop(link, new NotConnectedError("lost the broker"))) logger.warn("lost the connection");
   */
  drop(link: L, failure: NotConnectedError): boolean {
    if (this.#closed || link !== this.#link) return false;
    this.#link = undefined;
    this.#failure = failure;
    this.#counters.connectionLosses++;
    this.#counters.errors++;
    return true;
  }

  /**
   * Runs one write on the connection; `close` waits for it. A failed write counts as an error.
   *
   * @example
   * await slot.write(publish(records, slot.require()));
   */
  async write<T>(writing: Promise<T>): Promise<T> {
    this.#writing = writing.catch(() => undefined);
    try {
      return await writing;
    } catch (error) {
      this.#counters.errors++;
      throw error;
    }
  }

  /**
   * Closes once: marks the connector closed (`release` runs then, e.g. to settle pending
   * reads), waits for the write in progress, and hands the connection, marked dead, to
   * `dispose`. Later calls resolve without effect.
   *
   * @example
   * await slot.close((link) => link.client.endAsync());
   */
  async close(dispose: (link: L) => Promise<void>, release?: () => void): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    release?.();
    if (this.#writing !== undefined) await this.#writing;
    const link = this.#link;
    this.#link = undefined;
    if (link === undefined) return;
    link.alive = false;
    await dispose(link);
  }
}
