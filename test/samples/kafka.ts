// The local Kafka of scripts/services (127.0.0.1:9092) as the sample tests use it: topics of
// their own, a producer, and reading a topic back. Fails loudly, naming the command that starts
// the broker, when it is not there.
import { randomUUID } from "node:crypto";
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";

export const KAFKA_BROKER = "127.0.0.1:9092";

/** A topic or group name no earlier run used. */
export function uniqueKafkaName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** A kafkajs client for the tests' own producing and reading. */
export function sampleKafka(): Kafka {
  return new Kafka({
    clientId: "sluice-sample-tests",
    brokers: [KAFKA_BROKER],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** Connects an admin client, or fails saying how to start Kafka. */
export async function connectKafkaAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw new Error(
      `Kafka is not answering at ${KAFKA_BROKER} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start kafka`,
      { cause: error },
    );
  }
  return admin;
}

/** Creates topics that must not exist yet, and waits for their leaders. */
export async function createTopics(
  admin: Admin,
  topics: readonly { readonly topic: string; readonly partitions: number }[],
): Promise<void> {
  const created = await admin.createTopics({
    topics: topics.map(({ topic, partitions }) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
    })),
    waitForLeaders: true,
  });
  if (!created) throw new Error(`a topic of ${topics.map((t) => t.topic).join(", ")} existed`);
}

/** A connected producer keeping the order of each key. */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

/**
 * Reads `topic` from the beginning until `count` messages arrived, failing after `timeoutMs`;
 * returns keys and values as text, in each partition's order. The deadline is generous: right
 * after a suite restarted Kafka, the broker may take a while to answer a new group's join.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 45_000,
): Promise<{ key: string; value: string }[]> {
  const consumer = kafka.consumer({ groupId: uniqueKafkaName("sample-test-reader") });
  const messages: { key: string; value: string }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${messages.length} of ${count} messages from ${topic}`)),
        timeoutMs,
      );
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            messages.push({
              key: message.key?.toString("utf8") ?? "",
              value: message.value?.toString("utf8") ?? "",
            });
            if (messages.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return messages;
}
