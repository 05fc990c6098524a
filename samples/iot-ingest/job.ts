// IoT sensor ingestion, Sluice's main sample: temperature readings (JSON) come from MQTT — or,
// by default, from the bundled data set replayed through the file source — and each sensor's
// average, min and max over a sliding window go to Cassandra (or files). A line is printed per
// window, and a summary once the input has ended.
import { relative } from "node:path";
import { cassandraSink } from "@sluice/cassandra";
import { mqttSource } from "@sluice/mqtt";
import { batchRecords, defineJob } from "sluice";
import { formatSummary, formatWindow, printLine } from "./src/console-report.js";
import { type IotArgs, resolveSettings } from "./src/job-settings.js";
import { parseReading, type Reading } from "./src/reading.js";
import {
  mergeStats,
  statsOf,
  type TemperatureStats,
  type WindowRow,
  windowRow,
} from "./src/temperature-stats.js";

export type { IotArgs } from "./src/job-settings.js";

export default defineJob<IotArgs>((ctx, rawArgs) => {
  const settings = resolveSettings(rawArgs, ctx.batchInterval);

  // Backpressure: at most maxBufferedRecords readings wait for a batch; beyond that the source
  // is paused (MQTT then stops granting the broker more in-flight messages). Paced replays use
  // the same bound to take exactly one batch of readings per batch interval.
  const records = ctx.source(
    settings.sourceType === "mqtt" ? mqttSource : "file",
    settings.source,
    { maxBufferedRecords: settings.maxBufferedRecords },
  );
  const parsed = records.map(parseReading);
  const readings = parsed.flatMap((result) => (result.ok ? [result.reading] : []));
  const perSensor = readings.map((reading: Reading) => [reading.sensor, statsOf(reading)]);

  // The windows: each sensor's stats over the last `window`, every `slide`.
  const windows = perSensor
    .reduceByKeyAndWindow(mergeStats, { window: settings.windowMs, slide: settings.slideMs })
    .name("sensor-windows")
    .transform((batch, time) =>
      batchRecords(batch)
        .map(([sensor, stats]) => windowRow(sensor, stats, time))
        .sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0)),
    );

  // Running totals per sensor since the start, kept as state (checkpointed with the job).
  const totals = perSensor
    .updateStateByKey((batchStats: TemperatureStats[], total: TemperatureStats | undefined) =>
      batchStats.reduce(mergeStats, total ?? emptyStats()),
    )
    .name("sensor-totals");

  // Driver-side report: rejected readings, the latest totals, and the windows printed.
  let rejected = 0;
  let windowsOut = 0;
  let latestTotals = new Map<string, TemperatureStats>();
  parsed.foreachBatch((batch) => {
    for (const result of batchRecords(batch)) {
      if (result.ok) continue;
      rejected++;
      process.stderr.write(`rejected a reading (${result.where}): ${result.problem}\n`);
    }
  });
  totals.foreachBatch((batch) => {
    latestTotals = new Map(batchRecords(batch));
  });

  windows
    .map((row: WindowRow) => JSON.stringify(row))
    .sink(settings.sinkType === "cassandra" ? cassandraSink : "file", settings.sink);
  windows.foreachBatch((batch) => {
    const rows = batchRecords(batch);
    if (rows.length === 0) return;
    windowsOut++;
    if (settings.print) printLine(formatWindow(rows));
  });

  let summarised = false;
  ctx.addListener({
    onBatchCompleted: () => {
      if (summarised || !ctx.inputsEnded || !settings.print) return;
      summarised = true;
      printLine(
        formatSummary({
          totals: latestTotals,
          rejected,
          windows: windowsOut,
          destination:
            settings.sinkType === "file"
              ? relative(process.cwd(), String(settings.sink.directory)) || "."
              : `Cassandra ${String(settings.sink.keyspace)}.${String(settings.sink.table)}`,
        }),
      );
    },
  });
});

function emptyStats(): TemperatureStats {
  return { readings: 0, sum: 0, min: Infinity, max: -Infinity, first: Infinity, last: -Infinity };
}
