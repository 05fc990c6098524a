import { RecordTemplate, type SinkRecord, TEMPLATE_PLACEHOLDERS } from "sluice/connector";
import { z } from "zod";
import { connectionFields, requireOneAddress } from "./connection-config.js";

/** Builds the topic of one record; `index` is its position in the batch. */
export type TopicFunction = (record: SinkRecord, index: number) => string;

const topic = z
  .union([
    z.string().min(1),
    z.custom<TopicFunction>((value) => typeof value === "function", {
      message: "must be a template string or a function (record, index) => string",
    }),
  ])
  .superRefine((value, ctx) => {
    if (typeof value !== "string") return;
    const problem = RecordTemplate.problem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    else if (/[+#]/.test(value.replace(/\{[^{}]*\}/g, ""))) {
      ctx.addIssue({ code: "custom", message: "a topic to publish to cannot contain + or #" });
    }
  })
  .describe(
    `the topic: text, a template with ${TEMPLATE_PLACEHOLDERS} (e.g. "sensors/{key}/out"), or a function (record, index) => string`,
  );

/**
 * The MQTT sink's config.
 *
 * @example
 * averages.sink("mqtt", { url: "mqtt://127.0.0.1", topic: "sensors/{key}/avg", qos: 1, retain: true });
 */
export const mqttSinkConfig = z
  .strictObject({
    ...connectionFields,
    topic,
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(1)
      .describe("1 or 2: a batch resolves once the broker confirmed every message; 0: once sent"),
    retain: z.boolean().default(false).describe("the broker keeps the last message of each topic"),
    clientId: z
      .string()
      .min(1)
      .optional()
      .describe("the client id (default: generated); two clients with one id push each other out"),
    contentType: z
      .string()
      .min(1)
      .optional()
      .describe('the MQTT 5 content type of every message, e.g. "application/json"'),
    messageExpirySeconds: z
      .int()
      .min(1)
      .max(4_294_967_295)
      .optional()
      .describe("the broker drops a message not delivered within this time"),
  })
  .superRefine(requireOneAddress);

/** The parsed config the sink receives. */
export type MqttSinkConfig = z.output<typeof mqttSinkConfig>;
