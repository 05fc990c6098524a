/**
 * Sluice: Spark Streaming for Node.js. The `sluice` entry is the job API: contexts, streams,
 * jobs, the built-in connectors, listeners and recovery. Connectors are written against
 * `sluice/connector`; kernels, executors and connector sessions are in `sluice/advanced`.
 */

export { ClusterMember, type PartitionsListener } from "./cluster/cluster-member.js";
export type { ClusterOptions } from "./cluster/cluster-options.js";
export type { ClusterKafkaSettings, ClusterMembership } from "./connector/cluster-membership.js";
export {
  ConfigValidationError,
  type ConnectorPlugin,
  type RecordHeaders,
  type SinkPlugin,
  type SinkRecord,
  type SourcePlugin,
  type SourceRecord,
  secret,
  validateConfig,
} from "./connector/index.js";
export * from "./connectors/index.js";
export type { StreamingContextOptions } from "./context/context-options.js";
export {
  type QueueStreamOptions,
  type SocketTextStreamOptions,
  type StopOptions,
  StreamingContext,
} from "./context/streaming-context.js";
export { type Batch, batchRecords, batchSize } from "./dstream/batch.js";
export type { ColumnsFunction } from "./dstream/column-mapped-dstream.js";
export {
  DStream,
  type NamedWindowOptions,
  type ReduceByKeyAndWindowOptions,
  type ReduceByWindowOptions,
  type TransformResult,
  type UpdateStateInfo,
  type UpdateStateOptions,
} from "./dstream/dstream.js";
export { MapWithStateDStream } from "./dstream/map-with-state-dstream.js";
export type { NamedReduction } from "./dstream/named-reductions.js";
export { ParallelCollection } from "./dstream/parallel-collection.js";
export type {
  NumberColumns,
  PairColumns,
  TextColumns,
  Utf8Rows,
} from "./dstream/partition-columns.js";
export { readObjectFiles } from "./dstream/read-object-files.js";
export type { State, StateSpec } from "./dstream/state.js";
export type { ScopeHolder, StreamOwner, StreamScope } from "./dstream/stream-scope.js";
export { hasErrorCode, SluiceError, type SluiceErrorCode } from "./errors/sluice-error.js";
export type { BatchExecutionInfo } from "./execution/batch-execution-info.js";
export type { RateControlOptions } from "./flow/rate-controller.js";
export type { BinaryRecordsStreamOptions } from "./input/binary-records-dstream.js";
export type { TextFileStreamOptions } from "./input/file-input-dstream.js";
export { InputDStream } from "./input/input-dstream.js";
export type { QueueElement } from "./input/queue-input-dstream.js";
export { Receiver } from "./input/receiver.js";
export {
  type CreateJobContextHooks,
  createJobContext,
  type JobReference,
} from "./job/create-job-context.js";
export {
  defineJob,
  type JobBuild,
  type JobDefinition,
  type JobPlugin,
  type JobSpec,
} from "./job/define-job.js";
export { type MetricsSubject, SluiceMetrics } from "./observability/sluice-metrics.js";
export { startUi, type UiHandle, type UiSubject } from "./observability/start-ui.js";
export type { UiOptions } from "./observability/ui-options.js";
export type { MetricsText } from "./observability/ui-server.js";
export { closeConnectorsOf, connectorsOf } from "./plugins/connectors-of.js";
export type { LoadPluginsOptions } from "./plugins/registry.js";
export type { SinkInput, SinkOutputOptions } from "./plugins/sink-output.js";
export type { SourceStreamOptions } from "./plugins/source-input-dstream.js";
export type { CheckpointOptions } from "./recovery/checkpoint-options.js";
export type { DeadLetter, DeadLetterOptions } from "./recovery/dead-letters.js";
export type { RecoveryReport, ReportEntry } from "./recovery/recovery-report.js";
export type { StopOnSignalsOptions } from "./recovery/stop-on-signals.js";
export { type Clock, SystemClock } from "./scheduler/clock.js";
export type { ContextState } from "./scheduler/context-state.js";
export type {
  BatchInfo,
  DeadLettersInfo,
  ExecutorsInfo,
  ExecutorsUnavailableInfo,
  InputRateInfo,
  OutputOperationInfo,
  ReceiverInfo,
  StreamInputInfo,
  StreamingListener,
} from "./scheduler/listener.js";
export { canonicalKey } from "./util/canonical-key.js";
export { type Duration, type DurationUnit, parseDuration } from "./util/duration.js";
export { partitionOfKey } from "./util/partition-of-key.js";
