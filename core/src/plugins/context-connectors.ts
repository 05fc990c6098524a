import type { ConnectorPlugin } from "../connector/plugin.js";
import type { ConnectorRegistry } from "./registry.js";

/**
 * A context's connectors: its registry (made on first use), and the signal that ends connector
 * retries once the context stops. Built with the context; `close()` disposes every connector.
 *
 * @example
 * const connectors = new ContextConnectors(() => createConnectorRegistry());
 * connectors.registry.use(webhookSource);
 */
export class ContextConnectors {
  readonly #createRegistry: () => ConnectorRegistry;
  readonly #stopping = new AbortController();
  readonly #retriesEnd = new AbortController();
  readonly #waitsEnd = new AbortController();
  #interrupting: NodeJS.Timeout | undefined;
  #registry: ConnectorRegistry | undefined;
  #disposal: Promise<void> | undefined;

  constructor(createRegistry: () => ConnectorRegistry) {
    this.#createRegistry = createRegistry;
  }

  /** The registry, created on first use. */
  get registry(): ConnectorRegistry {
    this.#registry ??= this.#createRegistry();
    return this.#registry;
  }

  /** Aborted once the context stops: connector retries end. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  /**
   * Aborted once the context stops without draining (and when it stops): a write already failed
   * is not tried again, a reconnect ends, so the stop does not wait for a server that is away.
   * A first attempt still runs.
   */
  get retriesEnd(): AbortSignal {
    return this.#retriesEnd.signal;
  }

  /**
   * Aborted `interruptAfterMs` after `retriesEnd` (and when the context stops): a write still
   * waiting for its server's answer then gives up, so a server that never answers does not hold
   * the stop, while one that answers in time gets the batch in progress written.
   */
  get waitsEnd(): AbortSignal {
    return this.#waitsEnd.signal;
  }

  /**
   * Aborts `retriesEnd` now and `waitsEnd` once `interruptAfterMs` has passed. Idempotent: the
   * first call's grace counts.
   *
   * @example
   * connectors.endRetries(2_000); // a sink reconnecting in the batch in progress gives up
   */
  endRetries(interruptAfterMs = 0): void {
    if (this.#retriesEnd.signal.aborted) return;
    this.#retriesEnd.abort(new Error("the StreamingContext is stopping without draining"));
    if (interruptAfterMs <= 0) {
      this.#endWaits();
      return;
    }
    this.#interrupting = setTimeout(() => this.#endWaits(), interruptAfterMs);
    this.#interrupting.unref();
  }

  #endWaits(): void {
    clearTimeout(this.#interrupting);
    if (!this.#waitsEnd.signal.aborted) {
      this.#waitsEnd.abort(new Error("the StreamingContext is stopping without draining"));
    }
  }

  /**
   * Ends retries and closes every connector; resolves when all are closed, rejects with
   * `SLUICE_CONNECTOR_CLOSE_FAILED` when some failed. Idempotent.
   */
  close(): Promise<void> {
    this.endRetries();
    this.#endWaits();
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort(new Error("the StreamingContext stopped"));
    }
    if (this.#registry === undefined) return Promise.resolve();
    this.#disposal ??= this.#registry.dispose();
    return this.#disposal;
  }
}

/** Registers `source` when it is a plugin object; returns the name to create it by. */
export function pluginName(registry: ConnectorRegistry, source: string | ConnectorPlugin): string {
  if (typeof source === "string") return source;
  registry.use(source);
  return source.name;
}
