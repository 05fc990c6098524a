export {
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_BACKOFF,
  type Delay,
  realDelay,
} from "./backoff.js";
export {
  type BrokerList,
  type BrokerListConfig,
  brokerList,
  requireUrlOrHosts,
} from "./broker-list.js";
export {
  type ConfigIssue,
  ConfigValidationError,
  describeIssues,
  formatPath,
  timerMs,
  validateConfig,
} from "./config-validation.js";
export { type ConnectAdvice, type ConnectTarget, connectAdvice } from "./connect-advice.js";
export {
  type ConnectionCounters,
  type ConnectionLink,
  type ConnectionMetrics,
  ConnectionSlot,
  type ConnectSteps,
} from "./connection-slot.js";
export type { ConnectorContext, SinkContext, SourceContext } from "./connector-context.js";
export { ConnectorInstance, type SinkInstance, type SourceInstance } from "./connector-instance.js";
export { closeConnectorsOf, connectorsOf } from "./context-connectors.js";
export {
  BackoffError,
  backoffRequest,
  EndOfInputError,
  InvalidRecordError,
  invalidRecordIndex,
  isEndOfInput,
  isNotConnected,
  NotConnectedError,
} from "./control-flow.js";
export {
  defineSink,
  defineSource,
  type SinkDefinition,
  type SourceDefinition,
} from "./define-plugin.js";
export { firstReachable } from "./first-reachable.js";
export {
  HOST_AND_PORT,
  HOST_PORT,
  type HostPort,
  hostPort,
  splitHostPort,
} from "./host-port.js";
export { openAbortably } from "./open-abortably.js";
export {
  type ConnectorPlugin,
  isConnectorPlugin,
  PLUGIN_CONTRACT_VERSION,
  pluginProblems,
  type SinkPlugin,
  type SourcePlugin,
} from "./plugin.js";
export { importPluginPackage, pluginsFromModule, resolvePackage } from "./plugin-loader.js";
export { PushedReads, readSize } from "./pushed-reads.js";
export { RecordTemplate, TEMPLATE_PLACEHOLDERS } from "./record-template.js";
export type { RecordHeaders, SinkRecord, SourceRecord } from "./records.js";
export {
  formatConfig,
  looksLikeCredentialName,
  REDACTED,
  redactConfig,
} from "./redact.js";
export {
  ConnectorRegistry,
  type ConnectorRegistryOptions,
  type CreateConnectorOptions,
  type CreateSourceOptions,
  createConnectorRegistry,
  type LoadPluginsOptions,
} from "./registry.js";
export { isSecret, secret } from "./secret.js";
export type { Sink, SinkCapabilities, WriteBatchContext } from "./sink.js";
export type { SinkInput, SinkOutputOptions } from "./sink-output.js";
export { SinkSession, type SinkSessionOptions } from "./sink-session.js";
export type {
  ReadOptions,
  ReadResult,
  SeekOptions,
  Source,
  SourceCapabilities,
} from "./source.js";
export { SourceInputDStream, type SourceStreamOptions } from "./source-input-dstream.js";
export { SourceSession, type SourceSessionOptions } from "./source-session.js";
export { type RecordNameFunction, templateFunction } from "./template-function.js";
export { type TlsConfig, tlsConfig } from "./tls-config.js";
export {
  CONNECTOR_LOGGER,
  CONSOLE_STREAMS,
  type ConsoleStreams,
  type ServiceToken,
  SINK_PLUGIN,
  SOURCE_PLUGIN,
  serviceToken,
} from "./tokens.js";
