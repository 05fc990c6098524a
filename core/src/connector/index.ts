/**
 * `sluice/connector`: what a connector is written against. The contract (sources, sinks, records,
 * read results, control-flow errors), `defineSource`/`defineSink` with zod configs and secret
 * redaction, service tokens, and the broker toolkit the shipped connectors share (broker lists,
 * host:port parsing, connect advice, the connection slot, pushed reads). Nothing here runs a job:
 * the runtime that calls connectors lives behind the `sluice` entry.
 */

export { hasErrorCode, SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
export { abortable, closeQuietly, withTimeout } from "../util/async.js";
export { type Duration, parseDuration } from "../util/duration.js";
export { redactConfigString, redactText } from "../util/redact-text.js";
export { registerSecretValue } from "../util/secret-values.js";
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
  CLUSTER_MEMBERSHIP,
  type ClusterKafkaSettings,
  type ClusterMembership,
  clusterMembershipOf,
  refuseInKeyedCluster,
} from "./cluster-membership.js";
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
export { deadConnectionTimeoutMs, TCP_DEAD_CONNECTION_MS } from "./dead-connection.js";
export type { DeadLetter } from "./dead-letter.js";
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
export type { KeyedBatch, KeyedExchange, KeyedRestore } from "./keyed-exchange.js";
export { openAbortably } from "./open-abortably.js";
export {
  type ConnectorPlugin,
  isConnectorPlugin,
  PLUGIN_CONTRACT_VERSION,
  pluginProblems,
  type SinkPlugin,
  type SourcePlugin,
} from "./plugin.js";
export { PushedReads, readSize } from "./pushed-reads.js";
export {
  emptyReadResult,
  RedeliveryQueue,
  readColumnsResult,
  readResult,
} from "./read-results.js";
export {
  type ColumnHeaders,
  type ColumnKeys,
  type ColumnOffsets,
  type ColumnPartitions,
  SourceRecordColumns,
  type SourceRecordColumnsInit,
} from "./record-columns.js";
export { SourceRecordColumnsBuilder } from "./record-columns-builder.js";
export { RecordTemplate, TEMPLATE_PLACEHOLDERS } from "./record-template.js";
export type { RecordHeaders, SinkRecord, SourceRecord } from "./records.js";
export {
  formatConfig,
  looksLikeCredentialName,
  looksLikeMisspeltCredentialName,
  REDACTED,
  redactConfig,
  registerSecretFields,
} from "./redact.js";
export { isSecret, secret } from "./secret.js";
export type { Sink, SinkCapabilities, WriteBatchContext } from "./sink.js";
export {
  type ReadOptions,
  type ReadResult,
  type SeekOptions,
  type Source,
  type SourceCapabilities,
  type SourceDelivery,
  sourceDelivery,
} from "./source.js";
export { type RecordNameFunction, templateFunction } from "./template-function.js";
export { type TlsConfig, tlsConfig } from "./tls-config.js";
export { type TlsFailure, tlsFailureOf, tlsRefused, unloadableTls } from "./tls-failure.js";
export {
  certificateWarnings,
  passphraseUnused,
  type TlsMaterial,
  type TlsMaterialProblem,
  tlsMaterialProblems,
} from "./tls-material.js";
export {
  type ClientTlsOptions,
  clientTlsOptions,
  warnAboutTls,
  warnIfUnverified,
} from "./tls-options.js";
export {
  CONNECTOR_LOGGER,
  CONSOLE_STREAMS,
  type ConsoleStreams,
  type ServiceToken,
  SINK_PLUGIN,
  SOURCE_DEAD_LETTERS,
  SOURCE_PLUGIN,
  type SourceDeadLetters,
  serviceToken,
} from "./tokens.js";
export { Wakeup } from "./wakeup.js";
