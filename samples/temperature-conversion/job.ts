// Temperature conversion: readings in Celsius arrive as CSV files in a folder; `map` turns each
// into Fahrenheit; the job prints them and, when given an output folder, writes them as JSON lines.
import { fileURLToPath } from "node:url";
import { defineJob, SluiceError, type SourceRecord, validateConfig } from "sluice";
import { z } from "zod";

/** The readings bundled with the sample: twelve weather stations, ending with a `_DONE` file. */
export const BUNDLED_READINGS = fileURLToPath(new URL("./data", import.meta.url));

/** The job's settings (the `job` section of a config file, or `--set job.<name>=...`). */
export const temperatureArgs = z.strictObject({
  input: z
    .string()
    .min(1)
    .default(BUNDLED_READINGS)
    .describe("the folder CSV files of readings are moved into, with the columns station,celsius"),
  output: z
    .string()
    .min(1)
    .optional()
    .describe("a folder to write the converted readings to, as JSON lines"),
  endMarker: z
    .string()
    .min(1)
    .nullable()
    .default("_DONE")
    .describe("a file whose arrival ends the job once every reading is converted; null: never"),
  startAt: z
    .enum(["earliest", "latest"])
    .default("earliest")
    .describe('"earliest" also converts the files already in the folder, "latest" only new ones'),
});

/** One converted reading. */
export interface Conversion {
  readonly station: string;
  readonly celsius: number;
  readonly fahrenheit: number;
}

/**
 * Degrees Fahrenheit for degrees Celsius, to two decimals.
 *
 * @example
 * toFahrenheit(100); // 212
 */
export function toFahrenheit(celsius: number): number {
  return Math.round((celsius * 1.8 + 32) * 100) / 100;
}

const decoder = new TextDecoder();

/**
 * Reads one CSV row (as the file source hands it over: a JSON object keyed by the header) and
 * converts it; a row without a station or with a celsius that is not a number is a
 * `SLUICE_INVALID_RECORD` naming the file and byte.
 *
 * @example
 * convertReading(record); // { station: "Oslo", celsius: -3.5, fahrenheit: 25.7 }
 */
export function convertReading(record: SourceRecord): Conversion {
  const row = JSON.parse(decoder.decode(record.value)) as Record<string, unknown>;
  const { station, celsius } = row;
  if (typeof station !== "string" || station.trim() === "") {
    throw invalidReading(record, "has no station; every row needs station,celsius");
  }
  const degrees = typeof celsius === "string" && celsius.trim() !== "" ? Number(celsius) : NaN;
  if (!Number.isFinite(degrees)) {
    throw invalidReading(
      record,
      `has celsius ${JSON.stringify(celsius ?? null)}, which is not a number`,
    );
  }
  return { station: station.trim(), celsius: degrees, fahrenheit: toFahrenheit(degrees) };
}

function invalidReading(record: SourceRecord, problem: string): SluiceError {
  return new SluiceError(
    "SLUICE_INVALID_RECORD",
    `the reading ending at byte ${record.offset} of ${record.partition} ${problem}; fix or remove that row`,
  );
}

export default defineJob<z.input<typeof temperatureArgs>>((ctx, rawArgs) => {
  const args = validateConfig(temperatureArgs, rawArgs ?? {}, 'job "temperature-conversion"');
  const readings = ctx.source("file", {
    directory: args.input,
    format: "csv",
    startAt: args.startAt,
    ...(args.endMarker === null ? {} : { endMarker: args.endMarker }),
    pollIntervalMs: 200,
  });
  const converted = readings.map(convertReading);
  converted
    .map(({ station, celsius, fahrenheit }) => `${station}: ${celsius} °C = ${fahrenheit} °F`)
    .print(100);
  if (args.output !== undefined) {
    converted
      .map((conversion) => JSON.stringify(conversion))
      .sink("file", { directory: args.output, prefix: "fahrenheit", format: "jsonl" });
  }
});
