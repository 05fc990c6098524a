import { timerMs } from "sluice/connector";
import { z } from "zod";
import { kafkaClientFields } from "./client-config.js";

/**
 * The Kafka sink's config: the topic to produce to, and optionally a transactional id.
 */
export const kafkaSinkConfig = z.strictObject({
  ...kafkaClientFields,
  topic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be a Kafka topic name ([A-Za-z0-9._-], 1 to 249)")
    .describe("the topic every record is produced to"),
  transactionalId: z
    .string()
    .min(1)
    .optional()
    .describe(
      "produce in transactions: each write is one transaction, or, paired with a Kafka source of the same transactionalId, each batch is one transaction that also commits the consumed offsets (exactly-once)",
    ),
  transactionTimeoutMs: timerMs(1_000)
    .default(60_000)
    .describe("how long the broker keeps a transaction open before aborting it"),
  maxRecordBytes: z
    .int()
    .min(1)
    .default(1_000_000)
    .describe(
      "a record whose value, key and headers take more bytes is refused before sending (the broker's message.max.bytes is 1 MB by default); a batch's records are sent in requests of at most this many bytes, as the broker's limit applies to a partition's records of one request",
    ),
  allowAutoTopicCreation: z
    .boolean()
    .default(false)
    .describe("let the broker create the topic on first use (when the broker allows it)"),
});

/** The parsed config the sink receives. */
export type KafkaSinkConfig = z.output<typeof kafkaSinkConfig>;
