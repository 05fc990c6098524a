import { z } from "zod";
import { connectionFields, requireOneAddress } from "./connection-config.js";
import { topicFilterProblem } from "./topics.js";

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);

const topicFilter = z
  .string()
  .superRefine((value, ctx) => {
    const problem = topicFilterProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe('an MQTT topic filter such as "sensors/+/temp" or "sensors/#"');

/** One subscription: a topic filter and the QoS to receive it at. */
export const subscriptionOptions = z.strictObject({
  filter: topicFilter,
  qos: qos.optional().describe("0 (at most once), 1 or 2 (at least once here); default: qos"),
});

/**
 * The MQTT source's config.
 *
 * @example
 * ctx.source("mqtt", { url: "mqtt://127.0.0.1", clientId: "plant-7-job", topics: ["sensors/#"] });
 */
export const mqttSourceConfig = z
  .strictObject({
    ...connectionFields,
    clientId: z
      .string()
      .min(1)
      .max(65_535)
      .describe(
        "a stable client id: the broker keeps the session (subscriptions and unacknowledged messages) under it",
      ),
    topics: z
      .array(z.union([topicFilter, subscriptionOptions]))
      .min(1)
      .describe('topic filters, as text or { filter, qos }, e.g. ["sensors/#"]'),
    qos: qos
      .default(1)
      .describe(
        "the QoS of filters given as text; 1 or 2 keeps messages until their batch is output",
      ),
    cleanStart: z
      .boolean()
      .default(false)
      .describe("true drops the session the broker kept, with its unacknowledged messages"),
    sessionExpirySeconds: z
      .int()
      .min(1)
      .max(4_294_967_295)
      .default(86_400)
      .describe("how long the broker keeps the session while the job is down"),
    receiveMaximum: z
      .int()
      .min(1)
      .max(65_535)
      .default(1_000)
      .describe(
        "unacknowledged QoS 1/2 messages the broker sends ahead; acks wait for the batch, so keep it above the records per batch",
      ),
    maxRecordsPerRead: z.int().min(1).default(1_000).describe("at most this many records per read"),
    maxBufferedQos0: z
      .int()
      .min(1)
      .default(10_000)
      .describe("QoS 0 messages held unread at most; beyond it new ones are dropped and counted"),
  })
  .superRefine(requireOneAddress);

/** The parsed config the source receives. */
export type MqttSourceConfig = z.output<typeof mqttSourceConfig>;

/** The subscriptions of a config, each with its QoS. */
export function subscriptionsOf(
  config: Pick<MqttSourceConfig, "topics" | "qos">,
): { filter: string; qos: 0 | 1 | 2 }[] {
  return config.topics.map((topic) =>
    typeof topic === "string"
      ? { filter: topic, qos: config.qos }
      : { filter: topic.filter, qos: topic.qos ?? config.qos },
  );
}
