import { z } from "zod";
import { connectionFields, requireOneAddress } from "./connection-config.js";

const EXCHANGE_TYPES = ["direct", "topic", "fanout", "headers"] as const;

/** The queue the source consumes, declared (created if missing) or checked passively. */
export const queueOptions = z.strictObject({
  name: z.string().min(1).max(255).describe("the queue to consume"),
  declare: z
    .boolean()
    .default(true)
    .describe("true declares the queue (created if missing); false only checks that it exists"),
  durable: z
    .boolean()
    .default(true)
    .describe("a durable queue (with persistent messages) survives a broker restart"),
  exclusive: z.boolean().default(false).describe("a queue only this connection may use"),
  autoDelete: z
    .boolean()
    .default(false)
    .describe("deleted by the broker when its last consumer goes away"),
  arguments: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .default({})
    .describe('queue arguments, e.g. { "x-queue-type": "quorum" }'),
});

/** A binding of the queue to an exchange. */
export const bindingOptions = z.strictObject({
  exchange: z.string().min(1).describe("the exchange to bind the queue to"),
  routingKeys: z
    .array(z.string().max(255))
    .min(1)
    .default([""])
    .describe('binding keys; a topic exchange takes patterns such as "orders.*.eu" or "#"'),
  exchangeType: z
    .enum(EXCHANGE_TYPES)
    .optional()
    .describe(
      "when set, the exchange is declared (durable) with this type; otherwise it must exist",
    ),
});

/**
 * The RabbitMQ source's config.
 *
 * @example
 * ctx.source("rabbitmq", { url: "amqp://127.0.0.1", queue: { name: "orders" }, prefetch: 500 });
 */
export const rabbitmqSourceConfig = z
  .strictObject({
    ...connectionFields,
    queue: queueOptions.describe('the queue to consume, e.g. { name: "orders" }'),
    bindings: z
      .array(bindingOptions)
      .default([])
      .describe("exchanges to bind the queue to, with their routing keys"),
    prefetch: z
      .int()
      .min(1)
      .max(65_535)
      .default(1_000)
      .describe(
        "unacknowledged messages the broker sends ahead; acks wait for the batch, so keep it above the records per batch",
      ),
    maxRecordsPerRead: z.int().min(1).default(1_000).describe("at most this many records per read"),
  })
  .superRefine(requireOneAddress);

/** The parsed config the source receives. */
export type RabbitMqSourceConfig = z.output<typeof rabbitmqSourceConfig>;
