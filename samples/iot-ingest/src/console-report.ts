import { average, type TemperatureStats, type WindowRow } from "./temperature-stats.js";

/**
 * Prints one line on stdout. On a terminal the CLI keeps a status line on stderr; the line is
 * cleared first so the text starts at its beginning and the status line is drawn again below.
 *
 * @example
 * printLine("hello");
 */
export function printLine(text: string): void {
  process.stdout.write(`${process.stdout.isTTY ? "\r\x1b[K" : ""}${text}\n`);
}

/** `08:00:58` (UTC) for a time in milliseconds. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function celsius(value: number): string {
  return `${value.toFixed(1)} °C`;
}

/**
 * One line for a completed window: the readings' time span, how many readings of how many
 * sensors, their average, and the sensors with the lowest and highest temperature.
 *
 * @example
 * formatWindow(rows); // "window 08:00:00–08:00:58  240 readings from 8 sensors  avg 17.9 °C  min -20.1 °C (cold-store-2)  max 64.5 °C (boiler-room)"
 */
export function formatWindow(rows: readonly WindowRow[]): string {
  let readings = 0;
  let sum = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let coldest: WindowRow | undefined;
  let hottest: WindowRow | undefined;
  for (const row of rows) {
    readings += row.readings;
    sum += row.avg * row.readings;
    first = Math.min(first, row.first_reading);
    last = Math.max(last, row.last_reading);
    if (coldest === undefined || row.min < coldest.min) coldest = row;
    if (hottest === undefined || row.max > hottest.max) hottest = row;
  }
  if (coldest === undefined || hottest === undefined) return "window without readings";
  return [
    `window ${clockTime(first)}–${clockTime(last)}`,
    `${readings} readings from ${rows.length} sensors`,
    `avg ${celsius(sum / readings)}`,
    `min ${celsius(coldest.min)} (${coldest.sensor})`,
    `max ${celsius(hottest.max)} (${hottest.sensor})`,
  ].join("  ");
}

/**
 * The summary printed when the input has ended: totals, then one row per sensor over every
 * reading.
 *
 * @example
 * formatSummary({ totals, rejected: 2, windows: 60, destination: "samples/iot-ingest/out" });
 */
export function formatSummary(summary: {
  readonly totals: ReadonlyMap<string, TemperatureStats>;
  readonly rejected: number;
  readonly windows: number;
  readonly destination: string;
}): string {
  const sensors = [...summary.totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const all = sensors.map(([, stats]) => stats);
  const readings = all.reduce((count, stats) => count + stats.readings, 0);
  const first = Math.min(...all.map((stats) => stats.first));
  const last = Math.max(...all.map((stats) => stats.last));
  const lines = [
    "",
    `summary: ${readings} readings from ${sensors.length} sensors (${summary.rejected} rejected), sensor time ${sensors.length === 0 ? "-" : `${clockTime(first)}–${clockTime(last)}`}`,
    `         ${summary.windows} windows written to ${summary.destination}`,
    `  ${"sensor".padEnd(14)}${"readings".padStart(9)}${"avg".padStart(9)}${"min".padStart(9)}${"max".padStart(9)}`,
  ];
  for (const [sensor, stats] of sensors) {
    lines.push(
      `  ${sensor.padEnd(14)}${String(stats.readings).padStart(9)}${average(stats).toFixed(2).padStart(9)}${stats.min.toFixed(2).padStart(9)}${stats.max.toFixed(2).padStart(9)}`,
    );
  }
  return lines.join("\n");
}
