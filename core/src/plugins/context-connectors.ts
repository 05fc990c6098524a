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
   * Aborts `retriesEnd`. Idempotent.
   *
   * @example
   * connectors.endRetries(); // a sink reconnecting in the batch in progress gives up
   */
  endRetries(): void {
    if (!this.#retriesEnd.signal.aborted) {
      this.#retriesEnd.abort(new Error("the StreamingContext is stopping without draining"));
    }
  }

  /**
   * Ends retries and closes every connector; resolves when all are closed, rejects with
   * `SLUICE_CONNECTOR_CLOSE_FAILED` when some failed. Idempotent.
   */
  close(): Promise<void> {
    this.endRetries();
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
