// The SDK's sink conformance kit against the local Kafka broker, for the plain producer and the
// transactional one.
import type { Admin, Kafka } from "kafkajs";
import { describeSinkConformance } from "sluice/testing/conformance";
import { afterAll, beforeAll } from "vitest";
import { kafkaSink } from "../../../connectors/kafka/src/index.js";
import {
  BROKERS,
  connectAdmin,
  createTopic,
  KAFKA_PORT,
  readTopic,
  testKafka,
  uniqueName,
} from "./kafka-helpers.js";
import { dropConnections, lockService } from "./services.js";

let kafka: Kafka;
let admin: Admin;
let unlock: () => Promise<void>;
const topics: string[] = [];

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
});

afterAll(async () => {
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

const encoder = new TextEncoder();

for (const transactional of [false, true]) {
  describeSinkConformance(
    transactional ? "kafka sink (transactional)" : "kafka sink",
    async () => {
      const topic = uniqueName("conformance-sink");
      topics.push(topic);
      await createTopic(admin, topic);
      return {
        plugin: kafkaSink,
        config: {
          brokers: BROKERS,
          topic,
          ...(transactional ? { transactionalId: uniqueName("conformance-tx") } : {}),
        },
        readBack: async () =>
          (await readTopic(kafka, admin, topic)).map((message) => encoder.encode(message.value)),
        // The driver reconnects on its own: the count of connections killed is the evidence.
        dropConnections: async () => dropConnections(KAFKA_PORT),
      };
    },
    {
      invalidConfig: {
        config: {
          brokers: [],
          topic: "not a topic!",
          sasl: { mechanism: "plain", username: "app", password: "kafka-secret-456" },
        },
        paths: ["brokers", "topic"],
        secrets: ["kafka-secret-456"],
      },
    },
  );
}
