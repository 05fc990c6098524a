import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLines, temporaryFolder } from "../../../test/samples/files.js";
import { runSluice, samplePath } from "../../../test/samples/sluice-process.js";
import { bySensor, expectRowsMatchReadings, type OutputRow, readDataSet } from "./ground-truth.js";

const JOB = samplePath("iot-ingest", "job.ts");
const DATA = samplePath("iot-ingest", "data");
const SECOND = 1000;

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder("iot-ingest");
});
afterEach(async () => {
  await folder.remove();
});

describe("samples/iot-ingest: the bundled replay (npm start)", () => {
  it("writes each sensor's average, min and max over one minute of its readings, every 10 s of sensor time", async () => {
    const { valid, invalid } = await readDataSet(DATA);
    const sensors = bySensor(valid);
    const start = Math.min(...valid.map((reading) => reading.ts));

    // As `npm start` runs it, with 100 ms batches instead of 250 ms: the windows are the same.
    const run = await runSluice([
      "run",
      JOB,
      "--batch",
      "100ms",
      "--set",
      `job.sink.directory=${folder.path}`,
    ]);
    expect(run.code, run.stderr).toBe(0);

    const rows = (await readLines(folder.path, "windows")).map(
      (line) => JSON.parse(line) as OutputRow,
    );
    // Every row holds exactly the readings of its sensor in the span it names.
    expect(expectRowsMatchReadings(rows, sensors)).toBeGreaterThan(0);
    // Paced replay: every batch took 10 s of readings (8 sensors × 5), so each window spans whole
    // 10 s steps of sensor time and at most a minute of it.
    for (const row of rows) {
      const where = `${row.sensor} at ${row.window_end}`;
      expect((row.first_reading - start) % (10 * SECOND), where).toBe(0);
      expect(row.last_reading - row.first_reading, where).toBeLessThanOrEqual(58 * SECOND);
    }
    // Full windows hold a minute of readings, one per 2 s (a batch the machine was too busy to
    // fill in time leaves the windows around it shorter, which the checks above allow).
    const full = rows.filter((row) => row.last_reading - row.first_reading === 58 * SECOND);
    expect(full.length).toBeGreaterThan(0);
    for (const row of full) expect(row.readings, row.sensor).toBeGreaterThanOrEqual(29);
    // The windows of one batch cover the same span for every sensor (they are one window).
    const spans = new Map<number, Set<string>>();
    for (const row of rows) {
      const span = spans.get(row.window_end) ?? new Set<string>();
      span.add(`${row.first_reading}-${row.last_reading}`);
      spans.set(row.window_end, span);
    }
    for (const [windowEnd, span] of spans) expect(span.size, `window ${windowEnd}`).toBe(1);

    // stdout: a line per window, then the summary with totals computed here.
    const windowLines = run.stdout.split("\n").filter((line) => line.startsWith("window "));
    expect(windowLines).toHaveLength(spans.size);
    expect(run.stdout).toContain(
      `summary: ${valid.length} readings from ${sensors.size} sensors (${invalid.length} rejected), sensor time 08:00:00–08:09:58`,
    );
    expect(run.stdout).toContain(`${spans.size} windows written to`);
    for (const [sensor, readings] of sensors) {
      const temperatures = readings.map((reading) => reading.temperature);
      const mean = temperatures.reduce((a, b) => a + b, 0) / temperatures.length;
      const cells = [readings.length, mean, Math.min(...temperatures), Math.max(...temperatures)];
      const row = `  ${sensor.padEnd(14)}${cells
        .map((cell, index) => (index === 0 ? String(cell) : cell.toFixed(2)).padStart(9))
        .join("")}`;
      expect(run.stdout).toContain(row);
    }
    // The two glitches in the data are rejected, each named with its file and offset.
    expect(invalid).toHaveLength(2);
    expect(run.stderr).toContain(
      "rejected a reading (readings-0804.jsonl at offset 9510): temperature of roof must be a number, got null",
    );
    expect(run.stderr).toContain('temperature of office-2 must be a number, got "ERR"');
    expect(run.stderr).toMatch(
      /^iot-ingest: stopped after \d+ batches, 2400 records in, \d+ out$/m,
    );
  });

  it("takes window and slide in sensor time, and refuses ones the replay cannot cut", async () => {
    const { valid } = await readDataSet(DATA);
    const sensors = bySensor(valid);
    const run = await runSluice([
      "run",
      JOB,
      "--batch",
      "50ms",
      "--set",
      "job.window=2m",
      "--set",
      "job.slide=1m",
      "--set",
      "job.print=false",
      "--set",
      `job.sink.directory=${folder.path}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    const rows = (await readLines(folder.path, "windows")).map(
      (line) => JSON.parse(line) as OutputRow,
    );
    // A window comes out every minute of sensor time only: the readings after the last one are
    // in no window when the input ends, so the rows need not cover every reading here.
    expect(expectRowsMatchReadings(rows, sensors, { complete: false })).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.last_reading - row.first_reading).toBeLessThanOrEqual(118 * SECOND);
    }

    const refused = await runSluice(["run", JOB, "--set", "job.window=45s"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "job.window (45000 ms of sensor time) must be a multiple of job.pace.sensorTimePerBatch (10000 ms)",
    );
  });
});
