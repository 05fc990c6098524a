// The ground truth of the IoT tests, computed from the readings themselves (not with the job's
// code): which readings are valid, and what a sensor's window over a time span must hold.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";

/** A valid reading as the test reads it. */
export interface TruthReading {
  readonly sensor: string;
  readonly ts: number;
  readonly temperature: number;
}

/** A row the job wrote (file sink JSON or a Cassandra row). */
export interface OutputRow {
  readonly sensor: string;
  readonly window_end: number;
  readonly first_reading: number;
  readonly last_reading: number;
  readonly readings: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

/** The JSON lines of a data folder's `.jsonl` files in name order, split into valid and not. */
export async function readDataSet(
  directory: string,
): Promise<{ valid: TruthReading[]; invalid: string[] }> {
  const names = (await readdir(directory)).filter((name) => name.endsWith(".jsonl")).sort();
  const valid: TruthReading[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      const reading = JSON.parse(line) as { sensor: unknown; ts: unknown; temperature: unknown };
      if (
        typeof reading.sensor === "string" &&
        typeof reading.ts === "number" &&
        typeof reading.temperature === "number"
      ) {
        valid.push({ sensor: reading.sensor, ts: reading.ts, temperature: reading.temperature });
      } else {
        invalid.push(line);
      }
    }
  }
  return { valid, invalid };
}

/** Every reading of each sensor, in time order. */
export function bySensor(readings: readonly TruthReading[]): Map<string, TruthReading[]> {
  const sensors = new Map<string, TruthReading[]>();
  for (const reading of readings) {
    const list = sensors.get(reading.sensor) ?? [];
    list.push(reading);
    sensors.set(reading.sensor, list);
  }
  for (const list of sensors.values()) list.sort((a, b) => a.ts - b.ts);
  return sensors;
}

/**
 * Checks every row against the sensor's readings in [first_reading, last_reading]: count,
 * average, min and max must be theirs. With `complete` (the default), also checks that, per
 * sensor, the rows together cover every reading. Returns the number of rows checked.
 */
export function expectRowsMatchReadings(
  rows: readonly OutputRow[],
  sensors: ReadonlyMap<string, readonly TruthReading[]>,
  { complete = true }: { readonly complete?: boolean } = {},
): number {
  const covered = new Map<string, Set<number>>();
  for (const row of rows) {
    const readings = sensors.get(row.sensor);
    expect(readings, `row of an unknown sensor ${row.sensor}`).toBeDefined();
    const inWindow = (readings ?? []).filter(
      (reading) => reading.ts >= row.first_reading && reading.ts <= row.last_reading,
    );
    const temperatures = inWindow.map((reading) => reading.temperature);
    const where = `${row.sensor}, window ending ${row.window_end}`;
    expect(row.readings, where).toBe(inWindow.length);
    expect(row.min, where).toBe(Math.min(...temperatures));
    expect(row.max, where).toBe(Math.max(...temperatures));
    const mean = temperatures.reduce((a, b) => a + b, 0) / temperatures.length;
    expect(row.avg, where).toBeCloseTo(mean, 9);
    const seen = covered.get(row.sensor) ?? new Set<number>();
    for (const reading of inWindow) seen.add(reading.ts);
    covered.set(row.sensor, seen);
  }
  for (const [sensor, readings] of complete ? sensors : []) {
    expect(covered.get(sensor)?.size ?? 0, `readings of ${sensor} in some window`).toBe(
      readings.length,
    );
  }
  return rows.length;
}
