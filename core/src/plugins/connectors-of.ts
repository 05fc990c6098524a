import type { ScopeHolder } from "../dstream/stream-scope.js";
import type { ConnectorRegistry } from "./registry.js";

/**
 * The connector registry of a context: one per context, created on first use, disposed (every
 * connector closed) once the context has stopped. Register plugins here before `ctx.source` /
 * `stream.sink` name them.
 *
 * @example
 * connectorsOf(ctx).use(webhookSource);
 * await connectorsOf(ctx).loadPlugins(["@acme/sluice-redis"]);
 */
export function connectorsOf(context: ScopeHolder): ConnectorRegistry {
  return context.scope.connectors.registry;
}

/**
 * Closes every connector of a context (after it stopped, this already happens on its own);
 * resolves when all are closed, rejects with `SLUICE_CONNECTOR_CLOSE_FAILED` when some failed.
 *
 * @example
 * await ctx.stop({ graceful: true });
 * await closeConnectorsOf(ctx);
 */
export function closeConnectorsOf(context: ScopeHolder): Promise<void> {
  return context.scope.connectors.close();
}
