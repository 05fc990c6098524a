import { SluiceError } from "../errors/sluice-error.js";

/** Tuning of the PID rate estimator; Spark's defaults are P 1.0, I 0.2, D 0.0, min 100/s. */
export interface PidRateEstimatorOptions {
  /** The batch interval in milliseconds. */
  readonly batchIntervalMs: number;
  /** Weight of the current error (received rate − processing rate). Default 1.0. */
  readonly proportional?: number;
  /** Weight of the accumulated error, read off the scheduling delay. Default 0.2. */
  readonly integral?: number;
  /** Weight of the error's change since the last update. Default 0.0. */
  readonly derivative?: number;
  /** The lowest rate ever proposed, records per second. Default 100. */
  readonly minRate?: number;
}

/** What a completed batch tells the estimator. */
export interface BatchObservation {
  /** The batch time, epoch milliseconds. */
  readonly time: number;
  /** Records the batch held. */
  readonly records: number;
  /** How long the batch's jobs took, milliseconds. */
  readonly processingDelayMs: number;
  /** How long the batch waited before its first job started, milliseconds. */
  readonly schedulingDelayMs: number;
}

/**
 * Spark Streaming's PID rate estimator: from each completed batch it proposes the number of
 * records per second the sources should deliver so that batches finish within the interval.
 * The first observation only calibrates (it returns `undefined`), as in Spark.
 *
 * @example
 * const estimator = new PidRateEstimator({ batchIntervalMs: 1000 });
 * estimator.compute({ time: 1000, records: 5000, processingDelayMs: 2000, schedulingDelayMs: 0 });
 * const rate = estimator.compute({ time: 2000, records: 5000, processingDelayMs: 2000, schedulingDelayMs: 1000 });
 */
export class PidRateEstimator {
  private readonly batchIntervalMs: number;
  private readonly proportional: number;
  private readonly integral: number;
  private readonly derivative: number;
  private readonly minRate: number;
  private firstRun = true;
  private latestTime = -1;
  private latestRate = -1;
  private latestError = -1;

  constructor(options: PidRateEstimatorOptions) {
    this.batchIntervalMs = options.batchIntervalMs;
    this.proportional = options.proportional ?? 1.0;
    this.integral = options.integral ?? 0.2;
    this.derivative = options.derivative ?? 0.0;
    this.minRate = options.minRate ?? 100;
    requirePositive("batchIntervalMs", this.batchIntervalMs);
    requireNonNegative("proportional", this.proportional);
    requireNonNegative("integral", this.integral);
    requireNonNegative("derivative", this.derivative);
    requirePositive("minRate", this.minRate);
  }

  /**
   * The new rate in records per second after a completed batch, or `undefined` when the batch
   * says nothing new (the first batch, no records, no processing time, or an older batch).
   */
  compute(batch: BatchObservation): number | undefined {
    if (batch.time <= this.latestTime || batch.records <= 0 || batch.processingDelayMs <= 0) {
      return undefined;
    }
    const secondsSinceUpdate = (batch.time - this.latestTime) / 1000;
    const processingRate = (batch.records / batch.processingDelayMs) * 1000;
    // Positive when more arrived than the pipeline can process.
    const error = this.latestRate - processingRate;
    // The scheduling delay measures the backlog, i.e. the error accumulated over time: the
    // records that waited, expressed as a rate over one batch interval.
    const historicalError = (batch.schedulingDelayMs * processingRate) / this.batchIntervalMs;
    const errorChange = (error - this.latestError) / secondsSinceUpdate;
    const newRate = Math.max(
      this.latestRate -
        this.proportional * error -
        this.integral * historicalError -
        this.derivative * errorChange,
      this.minRate,
    );
    this.latestTime = batch.time;
    if (this.firstRun) {
      this.latestRate = processingRate;
      this.latestError = 0;
      this.firstRun = false;
      return undefined;
    }
    this.latestRate = newRate;
    this.latestError = error;
    return newRate;
  }
}

function requirePositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `backpressure: ${name} must be a number above 0, got ${String(value)}`,
    );
  }
}

function requireNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `backpressure: ${name} must be a number of 0 or more, got ${String(value)}`,
    );
  }
}
