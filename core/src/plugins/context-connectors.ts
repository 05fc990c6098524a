import type { ConnectorPlugin } from "../connector/plugin.js";
import { internalsOf } from "../context/context-internals.js";
import type { StreamingContext } from "../context/streaming-context.js";
import { ConnectorRegistry } from "./registry.js";

/** A context's connectors, and the signal that ends their retries when it stops. */
interface ContextConnectors {
  readonly registry: ConnectorRegistry;
  readonly stopping: AbortController;
  disposal: Promise<void> | undefined;
}

const connectorsByContext = new WeakMap<StreamingContext, ContextConnectors>();

/**
 * The connector registry of a context: one per context, created on first use, disposed (every
 * connector closed) once the context has stopped. Register plugins here before `ctx.source` /
 * `stream.sink` name them.
 *
 * @example
 * connectorsOf(ctx).use(webhookSource);
 * await connectorsOf(ctx).loadPlugins(["@acme/sluice-redis"]);
 */
export function connectorsOf(context: StreamingContext): ConnectorRegistry {
  return contextConnectors(context).registry;
}

/**
 * Closes every connector of a context (after it stopped, this already happens on its own);
 * resolves when all are closed, rejects with `SLUICE_CONNECTOR_CLOSE_FAILED` when some failed.
 *
 * @example
 * await ctx.stop({ graceful: true });
 * await closeConnectorsOf(ctx);
 */
export function closeConnectorsOf(context: StreamingContext): Promise<void> {
  const connectors = connectorsByContext.get(context);
  if (connectors === undefined) return Promise.resolve();
  connectors.stopping.abort(new Error("the StreamingContext stopped"));
  connectors.disposal ??= connectors.registry.dispose();
  return connectors.disposal;
}

/** The registry and the stop signal of a context (internal to the connector wiring). */
export function contextConnectors(context: StreamingContext): {
  readonly registry: ConnectorRegistry;
  readonly signal: AbortSignal;
} {
  let connectors = connectorsByContext.get(context);
  if (connectors === undefined) {
    const created: ContextConnectors = {
      registry: new ConnectorRegistry(),
      stopping: new AbortController(),
      disposal: undefined,
    };
    connectors = created;
    connectorsByContext.set(context, created);
    const internals = internalsOf(context);
    // Resolves only once the context is STOPPED (no batch time is ever >= Infinity).
    void internals
      .awaitProcessed(Number.POSITIVE_INFINITY)
      .then(() =>
        closeConnectorsOf(context).catch((error: unknown) => internals.reportError(error)),
      );
  }
  return { registry: connectors.registry, signal: connectors.stopping.signal };
}

/** Registers `source` when it is a plugin object; returns the name to create it by. */
export function pluginName(registry: ConnectorRegistry, source: string | ConnectorPlugin): string {
  if (typeof source === "string") return source;
  registry.use(source);
  return source.name;
}
