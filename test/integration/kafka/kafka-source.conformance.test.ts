// The SDK's source conformance kit against the local Kafka broker (scripts/services/start kafka).
import type { Admin, Kafka, Producer } from "kafkajs";
import { describeSourceConformance } from "sluice/testing";
import { afterAll, beforeAll } from "vitest";
import { kafkaSource } from "../../../connectors/kafka/src/index.js";
import {
  BROKERS,
  connectAdmin,
  connectProducer,
  createTopic,
  KAFKA_PORT,
  testKafka,
  uniqueName,
} from "./kafka-helpers.js";
import { dropConnections, lockService } from "./services.js";

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
const topics: string[] = [];

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
});

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describeSourceConformance(
  "kafka source",
  async () => {
    const topic = uniqueName("conformance-source");
    topics.push(topic);
    await createTopic(admin, topic);
    return {
      plugin: kafkaSource,
      config: {
        brokers: BROKERS,
        topics: [topic],
        groupId: uniqueName("conformance-group"),
        startFrom: "earliest",
        pollTimeoutMs: 200,
        heartbeatIntervalMs: 500,
      },
      produce: async (values) => {
        await producer.send({
          topic,
          messages: values.map((value) => ({ value: Buffer.from(value) })),
        });
      },
      dropConnections: async () => {
        if (dropConnections(KAFKA_PORT) === 0) throw new Error("no connection to Kafka to drop");
      },
    };
  },
  {
    invalidConfig: {
      config: {
        brokers: ["no-port-given"],
        topics: ["orders"],
        groupId: "",
        sasl: { mechanism: "plain", username: "app", password: "kafka-secret-123" },
      },
      paths: ["brokers[0]", "groupId"],
      secrets: ["kafka-secret-123"],
    },
    notApplicable: {
      endOfInput: "a Kafka topic has no end; the source reads until the job stops",
    },
  },
);
