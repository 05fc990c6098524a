import { RecordTemplate, type SinkRecord, TEMPLATE_PLACEHOLDERS } from "sluice/connector";
import { z } from "zod";
import { connectionFields, requireOneAddress } from "./connection-config.js";

/** Builds the routing key of one record; `index` is its position in the batch. */
export type RoutingKeyFunction = (record: SinkRecord, index: number) => string;

const routingKey = z
  .union([
    z.string(),
    z.custom<RoutingKeyFunction>((value) => typeof value === "function", {
      message: "must be a template string or a function (record, index) => string",
    }),
  ])
  .default("")
  .superRefine((value, ctx) => {
    if (typeof value !== "string") return;
    const problem = RecordTemplate.problem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe(
    `the routing key: text, a template with ${TEMPLATE_PLACEHOLDERS}, or a function (record, index) => string`,
  );

/**
 * The RabbitMQ sink's config.
 *
 * @example
 * counts.sink("rabbitmq", { url: "amqp://127.0.0.1", exchange: "counts", exchangeType: "topic", routingKey: "count.{key}" });
 */
export const rabbitmqSinkConfig = z
  .strictObject({
    ...connectionFields,
    exchange: z
      .string()
      .max(255)
      .default("")
      .describe(
        'the exchange to publish to; "" is the default exchange, which routes by queue name',
      ),
    exchangeType: z
      .enum(["direct", "topic", "fanout", "headers"])
      .optional()
      .describe(
        "when set, the exchange is declared (durable) with this type; otherwise it must exist",
      ),
    routingKey,
    persistent: z
      .boolean()
      .default(true)
      .describe("persistent messages survive a broker restart in durable queues"),
    mandatory: z
      .boolean()
      .default(true)
      .describe(
        "true fails a batch whose messages no queue is bound to receive; false lets the broker drop them",
      ),
    contentType: z
      .string()
      .min(1)
      .optional()
      .describe('the content type of every message, e.g. "application/json"'),
  })
  .superRefine(requireOneAddress);

/** The parsed config the sink receives. */
export type RabbitMqSinkConfig = z.output<typeof rabbitmqSinkConfig>;
