/** What a keyed cluster test's job process gets as JSON in KEYED_CLUSTER_JOB. */
export interface KeyedJobSettings {
  readonly brokers: readonly string[];
  /** The job's group: the same in every process. */
  readonly group: string;
  readonly input: string;
  readonly batchIntervalMs: number;
  readonly keyedPartitions: number;
  readonly cassandra: readonly string[];
  readonly keyspace: string;
  /** Caps each input partition's intake (records per second), the rate estimator off: benchmarks keep batches even. */
  readonly maxRatePerPartition?: number;
  /** The consumer group session timeout (default 6 s: a killed process's partitions move soon). */
  readonly sessionTimeoutMs?: number;
}

/** The environment variable the settings travel in. */
export const KEYED_SETTINGS_VARIABLE = "KEYED_CLUSTER_JOB";

/** The window of the windowed count, in batches (it slides by one batch). */
export const WINDOW_BATCHES = 3;
