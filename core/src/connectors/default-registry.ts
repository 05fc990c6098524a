import type { ConnectorRegistryOptions } from "../plugins/registry.js";
import { ConnectorRegistry } from "../plugins/registry.js";
import { builtinConnectors } from "./builtins.js";

/** Options of `createConnectorRegistry`. */
export interface CreateConnectorRegistryOptions extends ConnectorRegistryOptions {
  /** Register the built-in connectors (file, socket, console); default true. */
  readonly builtins?: boolean;
}

/**
 * A connector registry with the built-in connectors (file, socket, console) and `plugins`: what
 * every StreamingContext owns.
 *
 * @example
 * const registry = createConnectorRegistry({ logger });
 * registry.createSource("file", { directory: "incoming" });
 */
export function createConnectorRegistry(
  options: CreateConnectorRegistryOptions = {},
): ConnectorRegistry {
  const { builtins = true, plugins = [], ...rest } = options;
  return new ConnectorRegistry({
    ...rest,
    plugins: builtins ? [...builtinConnectors(), ...plugins] : plugins,
  });
}
