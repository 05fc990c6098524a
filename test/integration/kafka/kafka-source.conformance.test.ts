// The SDK's source conformance kit against the local Kafka broker (scripts/services/start kafka).
import type { Admin, Kafka, Producer } from "kafkajs";
import { describeSourceConformance } from "sluice/testing/conformance";
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
  async (testCase) => {
    const topic = uniqueName("conformance-source");
    const groupId = uniqueName("conformance-group");
    topics.push(topic);
    // Restart and seek over several partitions: offsets are checked per partition.
    await createTopic(admin, topic, testCase === "restart" || testCase === "seek" ? 3 : 1);
    return {
      plugin: kafkaSource,
      config: {
        brokers: BROKERS,
        topics: [topic],
        groupId,
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
      // kafkajs reconnects on its own (the source reports no lost connection): the count of
      // connections killed is the evidence of the drop.
      dropConnections: async () => dropConnections(KAFKA_PORT),
      // Records after the group's committed offset (the low watermark when none is committed).
      pending: async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        let pending = 0;
        for (const end of ends) {
          const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
          const from = offset === undefined || offset === "-1" ? end.low : offset;
          pending += Number(BigInt(end.high) - BigInt(from));
        }
        return pending;
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
