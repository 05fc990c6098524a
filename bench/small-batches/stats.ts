/**
 * The figures of one small-batch run: rates, percentiles, and least-squares lines (the trend of
 * the scheduling delay over the run; the fixed cost per batch as the intercept of processing time
 * against records per batch).
 */
import type { BatchSample } from "./runner.js";

/** A least-squares line `y = intercept + slope * x`. */
export interface Line {
  readonly intercept: number;
  readonly slope: number;
}

/**
 * Fits `y = a + b x` by least squares (a flat line at the mean when x does not vary).
 *
 * @example
 * leastSquares([0, 1, 2], [1, 3, 5]); // { intercept: 1, slope: 2 }
 */
export function leastSquares(xs: readonly number[], ys: readonly number[]): Line {
  const n = xs.length;
  if (n === 0) return { intercept: 0, slope: 0 };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

/**
 * Nearest-rank percentile of `values` (`p` from 0 to 100).
 *
 * @example
 * percentile([3, 1, 2], 50); // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** The figures the table shows for one run. */
export interface RunFigures {
  readonly batches: number;
  readonly recordsPerSecond: number;
  readonly recordsPerBatch: number;
  readonly processingP50: number;
  readonly processingP99: number;
  readonly processingMax: number;
  readonly schedulingP50: number;
  readonly schedulingP99: number;
  /** Trend of the scheduling delay over the run, ms per second of run. */
  readonly schedulingSlope: number;
  /** Trend of how late batches end behind their batch time, ms per second of run. */
  readonly endLagSlope: number;
  /**
   * Intercept of processing time against records per batch: the fixed cost of a batch, ms; NaN
   * when the batch sizes hardly differ (spread under `MIN_SIZE_SPREAD`).
   */
  readonly fixedMs: number;
  /** Slope of the same line, µs per record. */
  readonly perRecordUs: number;
  /** p99 processing below the interval and a scheduling delay that does not grow. */
  readonly stable: boolean;
}

/** The least spread of batch sizes (standard deviation over mean) for a within-run intercept. */
export const MIN_SIZE_SPREAD = 0.1;

/** A growing delay: more than this many ms per second of run (1% of the time) is unstable. */
export const STABLE_SLOPE_MS_PER_S = 10;

/**
 * The figures of the batches measured (those after the warm-up) of a run at `intervalMs`.
 *
 * @example
 * figures(samples.filter((b) => b.time > warmupEnd), 10);
 */
export function figures(measured: readonly BatchSample[], intervalMs: number): RunFigures {
  const first = measured[0];
  const last = measured[measured.length - 1];
  const spanMs =
    first === undefined || last === undefined ? 0 : last.time - first.time + intervalMs;
  let records = 0;
  for (const batch of measured) records += batch.records;
  const seconds = measured.map((batch) => (batch.time - (first?.time ?? 0)) / 1000);
  const processing = measured.map((batch) => batch.processingMs);
  const scheduling = measured.map((batch) => batch.schedulingDelayMs);
  const schedulingSlope = leastSquares(seconds, scheduling).slope;
  const endLagSlope = leastSquares(
    seconds,
    measured.map((batch) => batch.endLagMs),
  ).slope;
  const cost = leastSquares(
    measured.map((batch) => batch.records),
    processing,
  );
  // An intercept needs batch sizes that differ: below a 10% spread it says nothing.
  const sizes = measured.map((batch) => batch.records);
  const meanSize = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
  const spread =
    meanSize === 0
      ? 0
      : Math.sqrt(sizes.reduce((sum, size) => sum + (size - meanSize) ** 2, 0) / sizes.length) /
        meanSize;
  const processingP99 = percentile(processing, 99);
  return {
    batches: measured.length,
    recordsPerSecond: spanMs === 0 ? 0 : (records * 1000) / spanMs,
    recordsPerBatch: measured.length === 0 ? 0 : records / measured.length,
    processingP50: percentile(processing, 50),
    processingP99,
    processingMax: Math.max(...processing),
    schedulingP50: percentile(scheduling, 50),
    schedulingP99: percentile(scheduling, 99),
    schedulingSlope,
    endLagSlope,
    fixedMs: spread < MIN_SIZE_SPREAD ? Number.NaN : cost.intercept,
    perRecordUs: cost.slope * 1000,
    stable:
      processingP99 < intervalMs &&
      schedulingSlope < STABLE_SLOPE_MS_PER_S &&
      endLagSlope < STABLE_SLOPE_MS_PER_S,
  };
}
