export { ConnectorInstance, type SinkInstance, type SourceInstance } from "./connector-instance.js";
export { closeConnectorsOf, connectorsOf } from "./connectors-of.js";
export { ContextConnectors } from "./context-connectors.js";
export { importPluginPackage, pluginsFromModule, resolvePackage } from "./plugin-loader.js";
export {
  ConnectorRegistry,
  type ConnectorRegistryOptions,
  type CreateConnectorOptions,
  type CreateSourceOptions,
  type LoadPluginsOptions,
} from "./registry.js";
export type { SinkInput, SinkOutputOptions } from "./sink-output.js";
export { SinkSession, type SinkSessionOptions } from "./sink-session.js";
export { SourceInputDStream, type SourceStreamOptions } from "./source-input-dstream.js";
export { SourceSession, type SourceSessionOptions } from "./source-session.js";
