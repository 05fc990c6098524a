import type { Reading } from "./reading.js";

/** Temperatures of one sensor over some readings: enough to merge two and to report. */
export interface TemperatureStats {
  readonly readings: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The time of the earliest and the latest reading, in milliseconds since the epoch. */
  readonly first: number;
  readonly last: number;
}

/**
 * The stats of a single reading.
 *
 * @example
 * statsOf({ sensor: "roof", ts: 0, temperature: 3 }); // { readings: 1, sum: 3, min: 3, max: 3, first: 0, last: 0 }
 */
export function statsOf(reading: Reading): TemperatureStats {
  const { temperature, ts } = reading;
  return { readings: 1, sum: temperature, min: temperature, max: temperature, first: ts, last: ts };
}

/**
 * The stats of two sets of readings together; associative and commutative, as reduceByKey and
 * its windowed forms need.
 *
 * @example
 * mergeStats(statsOf(a), statsOf(b)).readings; // 2
 */
export function mergeStats(a: TemperatureStats, b: TemperatureStats): TemperatureStats {
  return {
    readings: a.readings + b.readings,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    first: Math.min(a.first, b.first),
    last: Math.max(a.last, b.last),
  };
}

/**
 * The average temperature.
 *
 * @example
 * average(mergeStats(statsOf(a), statsOf(b))); // (a.temperature + b.temperature) / 2
 */
export function average(stats: TemperatureStats): number {
  return stats.sum / stats.readings;
}

/** One row of the output: a sensor's window, named as the Cassandra table's columns. */
export interface WindowRow {
  readonly sensor: string;
  /** The batch time the window ends at (the job's clock). */
  readonly window_end: number;
  /** The earliest and latest reading in the window (the sensors' clock). */
  readonly first_reading: number;
  readonly last_reading: number;
  readonly readings: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The output row of a sensor's window ending at `windowEnd`.
 *
 * @example
 * windowRow("roof", stats, 1736928060000); // { sensor: "roof", window_end: 1736928060000, ... }
 */
export function windowRow(sensor: string, stats: TemperatureStats, windowEnd: number): WindowRow {
  return {
    sensor,
    window_end: windowEnd,
    first_reading: stats.first,
    last_reading: stats.last,
    readings: stats.readings,
    avg: average(stats),
    min: stats.min,
    max: stats.max,
  };
}
