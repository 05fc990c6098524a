/** Every error code Sluice raises; check `error.code`, not `instanceof`. */
export type SluiceErrorCode =
  | "SLUICE_INVALID_ARGUMENT"
  | "SLUICE_NATIVE_INVALID_OFFSETS"
  | "SLUICE_NATIVE_INVALID_ARGUMENT"
  | "SLUICE_NATIVE_PANIC"
  | "SLUICE_NATIVE_INVALID_SNAPSHOT"
  // Fault tolerance (core/src/recovery): checkpoints, the write-ahead log, bad records, shutdown.
  | "SLUICE_CHECKPOINT_CORRUPT"
  | "SLUICE_CHECKPOINT_VERSION"
  | "SLUICE_CHECKPOINT_INCOMPATIBLE"
  | "SLUICE_CHECKPOINT_WRITE_FAILED"
  | "SLUICE_CHECKPOINT_IN_USE"
  | "SLUICE_CHECKPOINT_TAKEN_OVER"
  | "SLUICE_STATE_NOT_SERIALIZABLE"
  | "SLUICE_WAL_CORRUPT"
  | "SLUICE_DISK_FULL"
  | "SLUICE_RECORD_FAILED"
  | "SLUICE_REPLAY_INCOMPLETE"
  | "SLUICE_SOURCE_NOT_SEEKABLE"
  | "SLUICE_SHUTDOWN_TIMEOUT"
  // Connectors and plugins (core/src/plugins, core/src/connectors).
  | "SLUICE_INVALID_CONFIG"
  | "SLUICE_INVALID_RECORD"
  | "SLUICE_NOT_CONNECTED"
  | "SLUICE_END_OF_INPUT"
  | "SLUICE_BACKOFF"
  | "SLUICE_CONNECTOR_CLOSED"
  | "SLUICE_CONNECTOR_CLOSE_FAILED"
  | "SLUICE_CONNECTOR_IO"
  // The external system refused the connector (credentials, permissions, TLS, a missing queue): not retried.
  | "SLUICE_CONNECTOR_REFUSED"
  | "SLUICE_UNKNOWN_CONNECTOR"
  | "SLUICE_PLUGIN_INVALID"
  | "SLUICE_PLUGIN_CONFLICT"
  | "SLUICE_PLUGIN_NOT_FOUND"
  | "SLUICE_PLUGIN_LOAD_FAILED"
  | "SLUICE_REGISTRY_DISPOSED"
  // Streaming core: context lifecycle, durations, scheduling, inputs and stateful operators.
  | "SLUICE_ILLEGAL_STATE"
  | "SLUICE_INVALID_DURATION"
  | "SLUICE_NO_OUTPUT_OPERATIONS"
  | "SLUICE_MISSING_BATCH"
  | "SLUICE_JOB_FAILED"
  | "SLUICE_INPUT_FAILED"
  | "SLUICE_RECEIVER_FAILED"
  | "SLUICE_INCONSISTENT_WINDOW"
  // Executors (master "local[N]"): a task failed its last attempt, an executor thread failed to
  // start or load the job, a job module is missing or rebuilt a different graph.
  | "SLUICE_TASK_FAILED"
  | "SLUICE_EXECUTOR_FAILED"
  | "SLUICE_JOB_LOAD_FAILED"
  | "SLUICE_JOB_MISMATCH"
  // Observability (core/src/observability): the web UI and /metrics server.
  | "SLUICE_UI_TOKEN_REQUIRED"
  | "SLUICE_UI_LISTEN_FAILED"
  | "SLUICE_INTERNAL";

/**
 * The base of every error Sluice raises, with a stable `code` and the original error as `cause`.
 *
 * @example
 * throw new SluiceError("SLUICE_INVALID_ARGUMENT", "numPartitions must be at least 1");
 */
export class SluiceError extends Error {
  readonly code: SluiceErrorCode;

  constructor(code: SluiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SluiceError";
    this.code = code;
  }
}

/**
 * True when `error` carries the given Sluice code (works across copies of the package).
 *
 * @example
 * if (hasErrorCode(err, "SLUICE_INVALID_ARGUMENT")) retry = false;
 */
export function hasErrorCode(error: unknown, code: SluiceErrorCode): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
