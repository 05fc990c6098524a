import { validateConfig } from "sluice";
import { describe, expect, it } from "vitest";
import { isConnectionProblem, rootMessage, unreachableMessage } from "../src/kafka-client.js";
import { kafkaSinkConfig } from "../src/sink-config.js";
import { kafkaSourceConfig } from "../src/source-config.js";
import { parseOffset, parsePartitionKey, partitionKey } from "../src/topic-partition.js";

const base = { brokers: ["127.0.0.1:9092"], groupId: "g" };

describe("Kafka source config", () => {
  it("applies defaults", () => {
    const config = validateConfig(kafkaSourceConfig, { ...base, topics: ["orders"] }, "source");
    expect(config).toMatchObject({
      clientId: "sluice",
      startFrom: "latest",
      maxRecordsPerPartition: 1_000,
      maxBufferedRecordsPerPartition: 10_000,
    });
  });

  it("refuses a broker port outside 1 to 65535, naming the entry", () => {
    for (const broker of ["127.0.0.1:0", "127.0.0.1:99999"]) {
      expect(() =>
        validateConfig(kafkaSourceConfig, { ...base, brokers: [broker], topics: ["a"] }, "source"),
      ).toThrow(/brokers\[0\]: Must have a port from 1 to 65535/);
    }
    expect(
      validateConfig(
        kafkaSourceConfig,
        { ...base, brokers: ["[::1]:65535"], topics: ["a"] },
        "source",
      ).brokers,
    ).toEqual(["[::1]:65535"]);
  });

  it("wants exactly one of topics and topicPattern", () => {
    expect(() => validateConfig(kafkaSourceConfig, base, "source")).toThrow(/topics/);
    expect(() =>
      validateConfig(kafkaSourceConfig, { ...base, topics: ["a"], topicPattern: "^a$" }, "source"),
    ).toThrow(/exactly one/);
  });

  it("refuses an invalid pattern, topic, broker address and start offset, all at once", () => {
    let error: { issues?: { path: string }[] } | undefined;
    try {
      validateConfig(
        kafkaSourceConfig,
        {
          brokers: ["127.0.0.1"],
          groupId: "g",
          topicPattern: "(",
          startOffsets: { "orders-x": "-1" },
        },
        "source",
      );
    } catch (thrown) {
      error = thrown as typeof error;
    }
    const paths = error?.issues?.map((issue) => issue.path) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining(["brokers[0]", "topicPattern", 'startOffsets["orders-x"]']),
    );
  });

  it("never shows the SASL password in errors", () => {
    try {
      validateConfig(
        kafkaSinkConfig,
        {
          brokers: ["127.0.0.1:9092"],
          topic: "bad topic",
          sasl: { mechanism: "plain", username: "u", password: "hunter2-secret" },
        },
        "sink",
      );
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).toContain("topic");
      expect(String((error as Error).message)).not.toContain("hunter2-secret");
    }
  });
});

describe("topic-partition keys and offsets", () => {
  it("round-trips topic names with dashes", () => {
    expect(partitionKey("my-orders", 12)).toBe("my-orders-12");
    expect(parsePartitionKey("my-orders-12")).toEqual({ topic: "my-orders", partition: 12 });
  });

  it("refuses malformed keys and offsets with a message saying what is expected", () => {
    expect(() => parsePartitionKey("orders")).toThrow(/"<topic>-<partition>"/);
    expect(() => parseOffset("-3", "startOffsets")).toThrow(/non-negative integer/);
    expect(parseOffset("9007199254740993", "x")).toBe(9_007_199_254_740_993n);
  });
});

describe("Kafka errors", () => {
  it("recognises lost brokers through kafkajs's wrapping", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:19092"), {
      name: "KafkaJSConnectionError",
    });
    const retries = Object.assign(new Error("retries exceeded"), {
      name: "KafkaJSNumberOfRetriesExceeded",
      cause: refused,
    });
    expect(isConnectionProblem(retries)).toBe(true);
    expect(rootMessage(retries)).toBe("connect ECONNREFUSED 127.0.0.1:19092");
    const denied = Object.assign(new Error("denied"), {
      name: "KafkaJSProtocolError",
      type: "TOPIC_AUTHORIZATION_FAILED",
    });
    expect(isConnectionProblem(denied)).toBe(false);
  });

  it("takes a coordinator or leader still moving after a restart for a reason to reconnect", () => {
    // What a transactional commit gave right after a broker restart on a loaded machine.
    const moving = Object.assign(new Error("This is not the correct coordinator for this group"), {
      name: "KafkaJSProtocolError",
      type: "NOT_COORDINATOR",
      retriable: true,
    });
    expect(isConnectionProblem(moving)).toBe(true);
    expect(
      isConnectionProblem(
        Object.assign(new Error("retries exceeded"), {
          name: "KafkaJSNumberOfRetriesExceeded",
          cause: Object.assign(new Error("leader"), { type: "LEADER_NOT_AVAILABLE" }),
        }),
      ),
    ).toBe(true);
  });

  it("names the address and what to check", () => {
    const message = unreachableMessage(["127.0.0.1:19092"], new Error("connect ECONNREFUSED"));
    expect(message).toContain("Cannot reach Kafka at 127.0.0.1:19092: connect ECONNREFUSED");
    expect(message).toContain("Is Kafka running at 127.0.0.1:19092?");
  });
});
