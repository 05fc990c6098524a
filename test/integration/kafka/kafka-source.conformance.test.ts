// The SDK's source conformance kit against the local Kafka broker (scripts/services/start kafka).
import { describeSourceConformance } from "sluice/testing/conformance";
import { kafkaSource } from "../../../connectors/kafka/src/index.js";
import { BROKERS, KAFKA_PORT, uniqueName } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import { dropConnections } from "./services.js";

const suite = kafkaSuite();

describeSourceConformance(
  "kafka source",
  async (testCase) => {
    // Restart and seek over several partitions: offsets are checked per partition.
    const partitions = testCase === "restart" || testCase === "seek" ? 3 : 1;
    const topic = await suite.newTopic("conformance-source", partitions);
    const groupId = uniqueName("conformance-group");
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
        await suite.producer.send({
          topic,
          messages: values.map((value) => ({ value: Buffer.from(value) })),
        });
      },
      // kafkajs reconnects on its own (the source reports no lost connection): the count of
      // connections killed is the evidence of the drop.
      dropConnections: async () => dropConnections(KAFKA_PORT),
      // Records after the group's committed offset (the low watermark when none is committed).
      pending: async () => {
        const ends = await suite.admin.fetchTopicOffsets(topic);
        const [committed] = await suite.admin.fetchOffsets({ groupId, topics: [topic] });
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
