import { fileURLToPath } from "node:url";
import { type Duration, parseDuration, SluiceError, validateConfig } from "sluice";
import { z } from "zod";

/** The bundled data set: ten minutes of readings of eight sensors, ending with `_DONE`. */
export const BUNDLED_DATA = fileURLToPath(new URL("../data", import.meta.url));
/** Where the windows go when no sink is configured (ignored by git). */
export const DEFAULT_OUTPUT = fileURLToPath(new URL("../out", import.meta.url));

const duration = z.union([z.number().positive(), z.string().min(1)]);

/**
 * The job's settings: the `job` section of a config file (`production.yaml`), or
 * `--set job.<path>=<value>`. `source` and `sink` take a `type` and that connector's own
 * settings, which are added to the defaults below and checked by the connector.
 */
export const iotArgs = z.strictObject({
  source: z
    .looseObject({ type: z.enum(["file", "mqtt"]).default("file") })
    .default({ type: "file" })
    .describe(
      'where readings come from: { type: "file", ...file source settings } (default: the bundled data set) or { type: "mqtt", ...MQTT source settings }',
    ),
  sink: z
    .looseObject({ type: z.enum(["file", "cassandra"]).default("file") })
    .default({ type: "file" })
    .describe(
      'where windows go: { type: "file", ...file sink settings } (default: samples/iot-ingest/out) or { type: "cassandra", ...Cassandra sink settings }',
    ),
  window: duration.default("60s").describe('how much time each window covers, e.g. "60s"'),
  slide: duration.default("10s").describe('how often windows are emitted, e.g. "10s"'),
  pace: z
    .strictObject({
      readingsPerBatch: z.int().min(1).describe("readings each batch takes from the source"),
      sensorTimePerBatch: duration.describe('the sensor time those readings span, e.g. "10s"'),
    })
    .nullable()
    .optional()
    .describe(
      "replays recorded readings at a steady pace; windows are then in the sensors' time. Default: on for the bundled data set (40 readings = 10 s a batch), off otherwise",
    ),
  maxBufferedRecords: z
    .int()
    .min(1)
    .default(10_000)
    .describe("readings held before the source is paused (backpressure)"),
  print: z.boolean().default(true).describe("print a line per window and a summary at the end"),
});

/** The settings as a config file or `--set` gives them. */
export type IotArgs = z.input<typeof iotArgs>;

/** The bundled data set's pace: 8 sensors × one reading per 2 s × 10 s. */
const BUNDLED_PACE = { readingsPerBatch: 40, sensorTimePerBatch: "10s" } as const;

const SOURCE_DEFAULTS = {
  file: {
    directory: BUNDLED_DATA,
    format: "jsonl",
    startAt: "earliest",
    endMarker: "_DONE",
    pollIntervalMs: 200,
  },
  mqtt: {
    url: "mqtt://127.0.0.1:1883",
    clientId: "sluice-iot-ingest",
    topics: ["sensors/+/readings"],
    qos: 1,
  },
} as const;

/** The Cassandra table of the windows; the sink creates it (and the keyspace) when missing. */
export const WINDOW_TABLE_SCHEMA = {
  columns: {
    sensor: "text",
    window_end: "timestamp",
    first_reading: "timestamp",
    last_reading: "timestamp",
    readings: "int",
    avg: "double",
    min: "double",
    max: "double",
  },
  partitionKey: ["sensor"],
  clusteringKey: ["window_end"],
} as const;

const SINK_DEFAULTS = {
  file: { directory: DEFAULT_OUTPUT, prefix: "windows", format: "jsonl" },
  cassandra: {
    contactPoints: ["127.0.0.1:9042"],
    keyspace: "iot",
    table: "sensor_windows",
    schema: WINDOW_TABLE_SCHEMA,
  },
} as const;

/** The settings with every default applied and the windows in the job's own batches. */
export interface IotSettings {
  readonly sourceType: "file" | "mqtt";
  readonly source: Readonly<Record<string, unknown>>;
  readonly sinkType: "file" | "cassandra";
  readonly sink: Readonly<Record<string, unknown>>;
  /** Window and slide in the job's time (milliseconds of batches). */
  readonly windowMs: number;
  readonly slideMs: number;
  /** The window as the user gave it (sensor time when paced), for messages. */
  readonly windowLabel: string;
  readonly pace: { readonly readingsPerBatch: number; readonly sensorMsPerBatch: number } | null;
  readonly maxBufferedRecords: number;
  readonly print: boolean;
}

/**
 * Checks the job's settings (every problem at once) and applies the defaults. With a pace,
 * `window` and `slide` are sensor time: a window of 60 s at 10 s of readings per batch covers
 * six batches, whatever the batch interval.
 *
 * @example
 * const settings = resolveSettings({}, 250); // the bundled replay: windowMs 1500, slideMs 250
 */
export function resolveSettings(raw: unknown, batchIntervalMs: number): IotSettings {
  const args = validateConfig(iotArgs, raw ?? {}, 'job "iot-ingest"');
  const { type: sourceType, ...sourceGiven } = args.source;
  const { type: sinkType, ...sinkGiven } = args.sink;
  const bundled = sourceType === "file" && sourceGiven.directory === undefined;
  const givenPace = args.pace === undefined ? (bundled ? BUNDLED_PACE : null) : args.pace;
  const pace =
    givenPace === null
      ? null
      : {
          readingsPerBatch: givenPace.readingsPerBatch,
          sensorMsPerBatch: parseDuration(
            givenPace.sensorTimePerBatch as Duration,
            "job.pace.sensorTimePerBatch",
          ),
        };
  const window = parseDuration(args.window as Duration, "job.window");
  const slide = parseDuration(args.slide as Duration, "job.slide");
  const inBatches = (ms: number, field: string): number => {
    if (pace === null) return ms;
    if (ms % pace.sensorMsPerBatch !== 0) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `job.${field} (${ms} ms of sensor time) must be a multiple of job.pace.sensorTimePerBatch (${pace.sensorMsPerBatch} ms): each batch replays that much`,
      );
    }
    return (ms / pace.sensorMsPerBatch) * batchIntervalMs;
  };
  return {
    sourceType,
    source: {
      ...SOURCE_DEFAULTS[sourceType],
      ...sourceGiven,
      ...(pace === null ? {} : { maxRecordsPerRead: pace.readingsPerBatch }),
    },
    sinkType,
    sink: { ...SINK_DEFAULTS[sinkType], ...sinkGiven },
    windowMs: inBatches(window, "window"),
    slideMs: inBatches(slide, "slide"),
    windowLabel: window % 1000 === 0 ? `${window / 1000} s` : `${window} ms`,
    pace,
    // Paced, the buffer holds one batch of readings: the source pauses until the batch took them.
    maxBufferedRecords: pace === null ? args.maxBufferedRecords : pace.readingsPerBatch,
    print: args.print,
  };
}
