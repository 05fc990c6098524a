import { SluiceError } from "../errors/sluice-error.js";
import {
  type BatchObservation,
  PidRateEstimator,
  type PidRateEstimatorOptions,
} from "./pid-rate-estimator.js";

/** Backpressure and rate caps of a job (Spark's `spark.streaming.backpressure.*` and limits). */
export interface RateControlOptions {
  /** Adapt the intake rate to the processing rate (default true). */
  readonly enabled?: boolean;
  /** Records per second before the estimator has a value (default: no limit). */
  readonly initialRate?: number;
  /** Records per second over all partitions of a source, never exceeded (default: no cap). */
  readonly maxRate?: number;
  /** Records per second of one source partition, never exceeded (default: no cap). */
  readonly maxRatePerPartition?: number;
  /** PID tuning; defaults are Spark's. */
  readonly pid?: Omit<PidRateEstimatorOptions, "batchIntervalMs">;
}

/**
 * Turns completed batches into how many records each source may deliver in the next batch:
 * the PID estimate when backpressure is on (else `initialRate`), capped by `maxRate`, and
 * split over partitions by their backlog, capped by `maxRatePerPartition`.
 *
 * @example
 * const control = new RateController(1000, { maxRatePerPartition: 500 });
 * control.onBatchCompleted({ time: 1000, records: 900, processingDelayMs: 1800, schedulingDelayMs: 0 });
 * control.recordsPerPartition(new Map([["t-0", 10_000], ["t-1", 0]]));
 */
export class RateController {
  private readonly estimator: PidRateEstimator | undefined;
  private readonly initialRate: number | undefined;
  private readonly maxRate: number | undefined;
  private readonly maxRatePerPartition: number | undefined;
  private estimatedRate: number | undefined;

  constructor(
    private readonly batchIntervalMs: number,
    options: RateControlOptions = {},
  ) {
    this.initialRate = optionalPositive("initialRate", options.initialRate);
    this.maxRate = optionalPositive("maxRate", options.maxRate);
    this.maxRatePerPartition = optionalPositive("maxRatePerPartition", options.maxRatePerPartition);
    this.estimator =
      options.enabled === false
        ? undefined
        : new PidRateEstimator({ ...options.pid, batchIntervalMs });
  }

  /** True when the estimator adapts the rate. */
  get backpressureEnabled(): boolean {
    return this.estimator !== undefined;
  }

  /** Feeds a completed batch to the estimator. */
  onBatchCompleted(batch: BatchObservation): void {
    const rate = this.estimator?.compute(batch);
    if (rate !== undefined) this.estimatedRate = rate;
  }

  /** The records per second a source may deliver now, over all its partitions; undefined = no limit. */
  currentRate(): number | undefined {
    const base = this.estimatedRate ?? this.initialRate;
    if (base === undefined) return this.maxRate;
    return this.maxRate === undefined ? base : Math.min(base, this.maxRate);
  }

  /**
   * The most records a source may deliver in the next batch over all partitions, at least 1;
   * undefined = no limit. `partitions` lets the per-partition cap bound the total.
   */
  recordsPerBatch(partitions = 1): number | undefined {
    const rate = this.currentRate();
    const partitionCap =
      this.maxRatePerPartition === undefined ? undefined : this.maxRatePerPartition * partitions;
    const capped =
      rate === undefined
        ? partitionCap
        : partitionCap === undefined
          ? rate
          : Math.min(rate, partitionCap);
    return capped === undefined ? undefined : this.perBatch(capped);
  }

  /**
   * Splits the next batch's allowance over partitions in proportion to their backlog (records
   * waiting), as Spark's direct Kafka stream does; each partition gets at least 1 when it has a
   * backlog. A partition absent from the result has no limit.
   */
  recordsPerPartition(backlog: ReadonlyMap<string, number>): Map<string, number> {
    const out = new Map<string, number>();
    const rate = this.currentRate();
    let totalBacklog = 0;
    for (const waiting of backlog.values()) totalBacklog += Math.max(0, waiting);
    for (const [partition, waiting] of backlog) {
      let partitionRate: number | undefined;
      if (rate !== undefined) {
        const share = totalBacklog > 0 ? Math.max(0, waiting) / totalBacklog : 1 / backlog.size;
        partitionRate = rate * share;
      }
      if (this.maxRatePerPartition !== undefined) {
        partitionRate =
          partitionRate === undefined
            ? this.maxRatePerPartition
            : Math.min(partitionRate, this.maxRatePerPartition);
      }
      if (partitionRate !== undefined) out.set(partition, this.perBatch(partitionRate));
    }
    return out;
  }

  private perBatch(recordsPerSecond: number): number {
    return Math.max(1, Math.floor((recordsPerSecond * this.batchIntervalMs) / 1000));
  }
}

function optionalPositive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `backpressure: ${name} must be a number of records per second above 0, got ${String(value)}`,
    );
  }
  return value;
}
