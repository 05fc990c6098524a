/** What a cluster test's job process gets as JSON in CLUSTER_JOB. */
export interface ClusterJobSettings {
  readonly brokers: readonly string[];
  /** The job's group: the same in every process. */
  readonly group: string;
  readonly input: string;
  /** The topic the per-batch counts go to, as JSON `[word, count]` values. */
  readonly output: string;
  readonly batchIntervalMs: number;
  /** Spins this many rounds of a hash per word (a CPU-bound stateless step, for benchmarks). */
  readonly spinPerWord?: number;
  /**
   * The first line reading exactly `stall` blocks the process's event loop this long (a batch
   * longer than the session timeout: heartbeats stop and the group moves the partitions).
   */
  readonly stallMs?: number;
  /** The consumer group session timeout (default 6 s). */
  readonly sessionTimeoutMs?: number;
  /** Caps each input partition's intake (records per second), the rate estimator off: benchmarks keep batches even. */
  readonly maxRatePerPartition?: number;
  /** The sink's transaction timeout (default 10 s: a killed process's transaction ends soon). */
  readonly transactionTimeoutMs?: number;
}

/** The environment variable the settings travel in. */
export const SETTINGS_VARIABLE = "CLUSTER_JOB";
