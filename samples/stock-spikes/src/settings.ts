import { validateConfig } from "sluice";
import { z } from "zod";

const duration = z.union([z.number().positive(), z.string().min(1)]);

/**
 * The job's settings: the `job` section of a config file, or `--set job.<path>=<value>`.
 * `source` and `alerts` take a `type` and that connector's own settings, added to the defaults.
 */
export const spikeArgs = z.strictObject({
  source: z
    .looseObject({ type: z.enum(["socket", "kafka"]).default("socket") })
    .default({ type: "socket" })
    .describe(
      'where ticks come from: { type: "socket", host, port } (default localhost:9999) or { type: "kafka", brokers, topics, groupId, ... }',
    ),
  window: duration.default("30s").describe('how far back a price change is measured, e.g. "30s"'),
  slide: duration.default("5s").describe('how often the windows are checked, e.g. "5s"'),
  threshold: z
    .number()
    .positive()
    .default(5)
    .describe("the change in percent (up or down) from which a window raises an alert"),
  alerts: z
    .looseObject({ type: z.enum(["file", "kafka"]) })
    .optional()
    .describe(
      'also write alerts as JSON: { type: "file", directory } or { type: "kafka", brokers, topic }; they are always printed',
    ),
});

/** The settings as a config file or `--set` gives them. */
export type SpikeArgs = z.input<typeof spikeArgs>;

const SOURCE_DEFAULTS = {
  socket: { host: "localhost", port: 9999, onServerClose: "reconnect" },
  kafka: {
    brokers: ["127.0.0.1:9092"],
    topics: ["prices"],
    groupId: "sluice-stock-spikes",
    startFrom: "latest",
  },
} as const;

const ALERT_DEFAULTS = {
  file: { prefix: "alerts", format: "jsonl" },
  kafka: { brokers: ["127.0.0.1:9092"], topic: "price-alerts" },
} as const;

/** The settings checked, with every default applied. */
export interface SpikeSettings {
  readonly sourceType: "socket" | "kafka";
  readonly source: Readonly<Record<string, unknown>>;
  readonly window: number | string;
  readonly slide: number | string;
  readonly threshold: number;
  readonly alerts:
    | { readonly type: "file" | "kafka"; readonly config: Readonly<Record<string, unknown>> }
    | undefined;
}

/**
 * Checks the job's settings (every problem at once) and applies the defaults.
 *
 * @example
 * resolveSpikeSettings({ threshold: 3 }).source; // { host: "localhost", port: 9999, ... }
 */
export function resolveSpikeSettings(raw: unknown): SpikeSettings {
  const args = validateConfig(spikeArgs, raw ?? {}, 'job "stock-spikes"');
  const { type: sourceType, ...source } = args.source;
  let alerts: SpikeSettings["alerts"];
  if (args.alerts !== undefined) {
    const { type, ...config } = args.alerts;
    alerts = { type, config: { ...ALERT_DEFAULTS[type], ...config } };
  }
  return {
    sourceType,
    source: { ...SOURCE_DEFAULTS[sourceType], ...source },
    window: args.window,
    slide: args.slide,
    threshold: args.threshold,
    alerts,
  };
}
