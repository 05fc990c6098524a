import { type Duration, parseDuration, validateConfig } from "sluice";
import { z } from "zod";
import type { FraudRules } from "./card-rules.js";

const duration = z.union([z.number().positive(), z.string().min(1)]);

/**
 * The job's settings: the `job` section of a config file (`fraud-detection.yaml`), or
 * `--set job.<path>=<value>`. `source` and each `alerts` output take that connector's settings,
 * added to the defaults below; `null` turns an alert output off.
 */
export const fraudArgs = z.strictObject({
  source: z
    .looseObject({})
    .prefault({})
    .describe("the Kafka source's settings (default: topic transactions on 127.0.0.1:9092)"),
  alerts: z
    .strictObject({
      kafka: z
        .looseObject({})
        .nullable()
        .prefault({})
        .describe("the Kafka sink's settings (default: topic fraud-alerts); null: off"),
      rabbitmq: z
        .looseObject({})
        .nullable()
        .prefault({})
        .describe("the RabbitMQ sink's settings (default: topic exchange fraud); null: off"),
    })
    .prefault({}),
  rules: z
    .strictObject({
      maxTransactions: z
        .int()
        .min(1)
        .default(5)
        .describe("more transactions than this within velocityWindow alert"),
      velocityWindow: duration.default("60s").describe('the velocity rule\'s window, e.g. "60s"'),
      amountFactor: z
        .number()
        .positive()
        .default(5)
        .describe("an amount above this many times the card's average alerts"),
      minHistory: z
        .int()
        .min(1)
        .default(3)
        .describe("earlier transactions a card needs before its average counts"),
      maxAmount: z.number().positive().default(5000).describe("an amount this large always alerts"),
    })
    .prefault({}),
  stateTimeout: duration
    .default("30m")
    .describe("a card without transactions for this long is forgotten"),
});

/** The settings as a config file or `--set` gives them. */
export type FraudArgs = z.input<typeof fraudArgs>;

const BROKERS = ["127.0.0.1:9092"];

/** The settings checked, with every default applied. */
export interface FraudSettings {
  readonly source: Readonly<Record<string, unknown>>;
  readonly kafkaAlerts: Readonly<Record<string, unknown>> | null;
  readonly rabbitmqAlerts: Readonly<Record<string, unknown>> | null;
  readonly rules: FraudRules;
  readonly stateTimeout: Duration;
}

/**
 * Checks the job's settings (every problem at once) and applies the defaults.
 *
 * @example
 * resolveFraudSettings({ rules: { maxTransactions: 3 } }).rules.maxTransactions; // 3
 */
export function resolveFraudSettings(raw: unknown): FraudSettings {
  const args = validateConfig(fraudArgs, raw ?? {}, 'job "fraud-detection"');
  const { kafka, rabbitmq } = args.alerts;
  return {
    source: {
      brokers: BROKERS,
      topics: ["transactions"],
      groupId: "sluice-fraud-detection",
      startFrom: "earliest",
      ...args.source,
    },
    kafkaAlerts: kafka === null ? null : { brokers: BROKERS, topic: "fraud-alerts", ...kafka },
    rabbitmqAlerts:
      rabbitmq === null
        ? null
        : {
            url: "amqp://127.0.0.1:5672",
            exchange: "fraud",
            exchangeType: "topic",
            routingKey: "alert.{json.rule}",
            contentType: "application/json",
            ...rabbitmq,
          },
    rules: {
      ...args.rules,
      velocityWindowMs: parseDuration(
        args.rules.velocityWindow as Duration,
        "job.rules.velocityWindow",
      ),
    },
    stateTimeout: args.stateTimeout as Duration,
  };
}
