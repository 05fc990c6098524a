// What a refusal of the brokers names: the TLS setting, the SASL password, or the resource and
// the ACL operation to grant; anything else is left to the caller.
import { KafkaJSNumberOfRetriesExceeded } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaRefusal } from "../src/kafka-refusal.js";

const brokers = ["127.0.0.1:9094"];
// Shaped as kafkajs makes them: a name, and for a protocol error the broker's error type.
const protocolError = (type: string) =>
  Object.assign(new Error(`${type} happened`), { name: "KafkaJSProtocolError", type });

describe("kafkaRefusal", () => {
  it("names the SASL settings for a failed login, inside kafkajs's retry wrapper too", () => {
    const login = Object.assign(new Error("SASL SCRAM SHA512 authentication failed"), {
      name: "KafkaJSSASLAuthenticationError",
    });
    const wrapped = new KafkaJSNumberOfRetriesExceeded(login, { retryCount: 1, retryTime: 10 });
    for (const error of [login, wrapped]) {
      const refusal = kafkaRefusal(error, brokers, { who: "the source" });
      expect(refusal?.code).toBe("SLUICE_CONNECTOR_REFUSED");
      expect(refusal?.message).toContain("sasl.password");
      expect(refusal?.message).toContain("Kafka at 127.0.0.1:9094");
    }
  });

  it("names the topic and the operation for a topic without the ACL", () => {
    const refusal = kafkaRefusal(protocolError("TOPIC_AUTHORIZATION_FAILED"), brokers, {
      who: "the sink",
      topics: '"orders"',
      topicOperation: "Write",
    });
    expect(refusal?.message).toContain('"orders"');
    expect(refusal?.message).toContain("Write");
  });

  it("names the group, the transactional id and the cluster operation", () => {
    const resources = { who: "the source", groupId: "g1", transactionalId: "tx1", topics: '"t"' };
    expect(
      kafkaRefusal(protocolError("GROUP_AUTHORIZATION_FAILED"), brokers, resources)?.message,
    ).toContain('"g1"');
    expect(
      kafkaRefusal(protocolError("TRANSACTIONAL_ID_AUTHORIZATION_FAILED"), brokers, resources)
        ?.message,
    ).toContain('"tx1"');
    expect(
      kafkaRefusal(protocolError("CLUSTER_AUTHORIZATION_FAILED"), brokers, resources)?.message,
    ).toContain("IdempotentWrite");
  });

  it("names tls.ca for a broker certificate of an unknown CA wrapped in a connection error", () => {
    const tls = Object.assign(
      new Error("Connection error: unable to verify the first certificate"),
      {
        name: "KafkaJSConnectionError",
        code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      },
    );
    const wrapped = new KafkaJSNumberOfRetriesExceeded(tls, { retryCount: 1, retryTime: 10 });
    expect(kafkaRefusal(wrapped, brokers, { who: "the sink" })?.message).toContain("tls.ca");
  });

  it("leaves other failures to the caller", () => {
    expect(kafkaRefusal(protocolError("UNKNOWN_TOPIC_OR_PARTITION"), brokers, { who: "x" })).toBe(
      undefined,
    );
    expect(kafkaRefusal(new Error("Connection error: ECONNREFUSED"), brokers, { who: "x" })).toBe(
      undefined,
    );
  });
});
