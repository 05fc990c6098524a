import { timerMs } from "sluice/connector";
import { z } from "zod";
import { kafkaClientFields } from "./client-config.js";

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * The Kafka source's config. Give `topics` or `topicPattern`, and a `groupId`.
 */
export const kafkaSourceConfig = z
  .strictObject({
    ...kafkaClientFields,
    topics: z
      .array(z.string().regex(TOPIC, "must be a Kafka topic name ([A-Za-z0-9._-], 1 to 249)"))
      .min(1)
      .optional()
      .describe("the topics to subscribe to"),
    topicPattern: z
      .string()
      .min(1)
      .refine(isRegExp, "must be a valid regular expression")
      .optional()
      .describe(
        "a regular expression; every existing topic matching it is subscribed to at connect",
      ),
    groupId: z.string().min(1).describe("the consumer group the source joins"),
    startFrom: z
      .enum(["earliest", "latest"])
      .default("latest")
      .describe(
        "where partitions without a committed or explicit start offset begin: earliest or latest",
      ),
    startOffsets: z
      .record(
        z.string().regex(/^.+-\d+$/, 'must be "<topic>-<partition>", e.g. "orders-0"'),
        z.string().regex(/^\d{1,19}$/, "must be a non-negative integer offset as text"),
      )
      .optional()
      .describe(
        "explicit start offsets per \"<topic>-<partition>\" (the next record to read), overriding the group's committed offsets; Sluice's checkpointed offsets take precedence",
      ),
    transactionalId: z
      .string()
      .min(1)
      .optional()
      .describe(
        "pairs the source with the Kafka sink of the same transactionalId: consumed offsets are then committed inside the sink's transactions (exactly-once Kafka to Kafka)",
      ),
    maxRecordsPerRead: z
      .int()
      .min(1)
      .default(10_000)
      .describe("at most this many records per read"),
    maxRecordsPerPartition: z
      .int()
      .min(1)
      .default(1_000)
      .describe("at most this many records of one partition per read"),
    maxBufferedRecordsPerPartition: z
      .int()
      .min(1)
      .default(10_000)
      .describe("fetched records held per partition before fetching from it pauses"),
    pollTimeoutMs: timerMs(10)
      .default(1_000)
      .describe("how long a read waits for records before returning none"),
    joinTimeoutMs: timerMs(1)
      .default(30_000)
      .describe("how long connect waits for the consumer group to assign partitions"),
    sessionTimeoutMs: timerMs(1)
      .default(30_000)
      .describe("the group session timeout: a member silent this long loses its partitions"),
    rebalanceTimeoutMs: timerMs(1)
      .default(60_000)
      .describe("how long members may take to rejoin during a rebalance"),
    heartbeatIntervalMs: timerMs(1)
      .default(3_000)
      .describe("how often the consumer heartbeats to the group coordinator"),
    transactionTimeoutMs: timerMs(1)
      .default(60_000)
      .describe(
        "cluster mode with keyed state: how long the broker keeps a dead process's open map-side transaction, which holds back every keyed partition until it ends",
      ),
    maxBytesPerPartition: z
      .int()
      .min(1)
      .default(1_048_576)
      .describe("the most bytes one fetch returns per partition"),
    metadataMaxAgeMs: timerMs(100)
      .default(300_000)
      .describe(
        "how often the consumer refreshes the cluster's metadata: partitions added to a topic are read from this long after they appear at most",
      ),
    maxWaitTimeMs: timerMs(0)
      .default(500)
      .describe("how long the broker holds a fetch open waiting for data"),
  })
  .superRefine((config, ctx) => {
    if ((config.topics === undefined) === (config.topicPattern === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["topics"],
        message: "give either `topics` or `topicPattern` (exactly one)",
      });
    }
  });

/** The parsed config the source receives. */
export type KafkaSourceConfig = z.output<typeof kafkaSourceConfig>;

function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}
