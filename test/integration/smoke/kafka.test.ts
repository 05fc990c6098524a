// Produces and consumes one message on the local Kafka broker (scripts/services/start kafka).
import { Kafka, type logCreator, logLevel, Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import { deferred, SMOKE_TIMEOUT_MS, serverMissing, uniqueName, within } from "./helpers.js";

const BROKER = "127.0.0.1:9092";

// Errors only, without the one the first consumer group of a fresh broker always meets while
// the offsets topic is being created (KafkaJS retries it).
const quietLogger: logCreator =
  () =>
  ({ level, namespace, log }) => {
    if (level > logLevel.ERROR) return;
    const text = `${log.message} ${String(log.error ?? "")}`;
    if (/coordinator is not available/i.test(text)) return;
    console.error(`[kafkajs ${namespace}] ${text}`);
  };

describe("kafka smoke", () => {
  it(
    "produces to a new topic and consumes the message back",
    async () => {
      const topic = uniqueName("smoke");
      const kafka = new Kafka({
        clientId: "sluice-smoke",
        brokers: [BROKER],
        logLevel: logLevel.ERROR,
        logCreator: quietLogger,
        connectionTimeout: 3_000,
        retry: { retries: 2, initialRetryTime: 200 },
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        throw serverMissing("kafka", BROKER, err);
      }
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const consumer = kafka.consumer({ groupId: uniqueName("smoke-group") });
      try {
        const created = await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
          waitForLeaders: true,
        });
        expect(created).toBe(true);

        await producer.connect();
        const value = `hello ${topic}`;
        const [meta] = await producer.send({
          topic,
          messages: [{ key: "k1", value, headers: { origin: "smoke" } }],
        });
        expect(meta?.errorCode).toBe(0);

        const received = deferred<{ key: string; value: string; origin: string }>();
        consumer.on(consumer.events.CRASH, ({ payload }) => received.reject(payload.error));
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            received.resolve({
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              origin: message.headers?.origin?.toString() ?? "",
            });
          },
        });
        const got = await within(30_000, `consuming from ${topic}`, received.promise);
        expect(got).toEqual({ key: "k1", value, origin: "smoke" });
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.disconnect();
      }
    },
    SMOKE_TIMEOUT_MS,
  );
});
