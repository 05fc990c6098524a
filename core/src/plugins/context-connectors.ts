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
   * Ends retries and closes every connector; resolves when all are closed, rejects with
   * `SLUICE_CONNECTOR_CLOSE_FAILED` when some failed. Idempotent.
   */
  close(): Promise<void> {
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
