import type { IPublishPacket } from "mqtt";
import { ConnectorRegistry } from "sluice/advanced";
import { CLUSTER_MEMBERSHIP, type ClusterMembership } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import {
  CLIENT_CERT,
  encryptedClientKey,
  KEY_PASSPHRASE,
} from "../../../core/test/connector/tls-fixtures.js";
import { recordHeaders, userProperties } from "../src/headers.js";
import { mqttSink, mqttSource, retireSharedMember, subscriptionsOf } from "../src/index.js";
import { isFixedTopic, topicFilterProblem, topicNameProblem } from "../src/topics.js";

const registry = () =>
  new ConnectorRegistry({ logger: new LogCapture().logger }).use(mqttSource).use(mqttSink);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("topics", () => {
  it("tells a topic every record has from one built from each record", () => {
    expect(isFixedTopic("alerts/out")).toBe(true);
    expect(isFixedTopic("alerts/{{literal}}")).toBe(true);
    expect(isFixedTopic("sensors/{key}/out")).toBe(false);
    expect(isFixedTopic("a/{{x}}/{json.id}")).toBe(false);
    expect(isFixedTopic(() => "alerts/out")).toBe(false);
  });

  it("accepts valid filters, shared subscriptions included", () => {
    for (const filter of ["a", "a/b", "a/+/c", "+", "#", "a/#", "+/+/#", "$share/g/a/#", "/a"]) {
      expect(topicFilterProblem(filter), filter).toBeUndefined();
    }
  });

  it("says what is wrong with a filter", () => {
    expect(topicFilterProblem("")).toBe("a topic filter cannot be empty");
    expect(topicFilterProblem("a/#/b")).toMatch(/"#" must be the last level/);
    expect(topicFilterProblem("a/b#")).toMatch(/"#" must be the last level/);
    expect(topicFilterProblem("a/b+/c")).toMatch(/"\+" must fill a whole level/);
    expect(topicFilterProblem("$share/g")).toMatch(/shared subscription/);
    expect(topicFilterProblem("$share/g+/a")).toMatch(/shared subscription/);
  });

  it("refuses wildcards and empty names in topics to publish to", () => {
    expect(topicNameProblem("a/b")).toBeUndefined();
    expect(topicNameProblem("")).toBe("the topic is empty");
    expect(topicNameProblem("a/+")).toMatch(/contains a wildcard/);
    expect(topicNameProblem("a/#")).toMatch(/contains a wildcard/);
  });
});

describe("headers", () => {
  it("turns user properties and message details into record headers", () => {
    const packet = {
      cmd: "publish",
      topic: "t",
      payload: Buffer.from("x"),
      qos: 2,
      retain: true,
      dup: false,
      properties: { userProperties: { a: "1", many: ["x", "y"] }, contentType: "application/json" },
    } as unknown as IPublishPacket;
    const shown = Object.fromEntries(
      Object.entries(recordHeaders(packet)).map(([name, value]) => [name, decoder.decode(value)]),
    );
    expect(shown).toEqual({
      a: "1",
      many: "x, y",
      "mqtt-qos": "2",
      "mqtt-retain": "true",
      "mqtt-dup": "false",
      "mqtt-content-type": "application/json",
    });
  });

  it("marks a redelivery (the DUP flag) so a job can tell it may have been processed", () => {
    const packet = {
      cmd: "publish",
      topic: "t",
      payload: Buffer.from("x"),
      qos: 1,
      retain: false,
      dup: true,
    } as unknown as IPublishPacket;
    expect(decoder.decode(recordHeaders(packet)["mqtt-dup"])).toBe("true");
  });

  it("publishes headers as user properties, never the message details, and refuses non-text", () => {
    expect(
      userProperties({ tenant: encoder.encode("acme"), "mqtt-qos": encoder.encode("1") }),
    ).toEqual({
      tenant: "acme",
    });
    expect(userProperties({})).toBeUndefined();
    expect(() => userProperties({ raw: new Uint8Array([0xff]) })).toThrow(
      'the header "raw" is not UTF-8 text',
    );
  });
});

describe("config", () => {
  it("declares the source not replayable (its records go through the write-ahead log) and the sink not idempotent", () => {
    expect(mqttSource.capabilities.replayable).toBe(false);
    expect(mqttSink.capabilities.idempotent).toBe(false);
  });

  it("says how long a dead connection goes unnoticed: two missed keep-alives, or TCP's timeout without them", () => {
    const source = (keepaliveSeconds?: number) =>
      registry().createSource("mqtt", {
        hosts: ["h"],
        clientId: "job",
        topics: ["a/#"],
        ...(keepaliveSeconds === undefined ? {} : { keepaliveSeconds }),
      }).connector;
    expect(source().deadConnectionTimeoutMs?.()).toBe(90_000);
    expect(source(60).deadConnectionTimeoutMs?.()).toBe(150_000);
    expect(source(0).deadConnectionTimeoutMs?.()).toBe(16 * 60_000);
  });

  it("applies the defaults: QoS 1, a kept session of a day, receive maximum 1000", () => {
    const source = registry().createSource("mqtt", {
      hosts: ["h"],
      clientId: "job",
      topics: ["a/#", { filter: "b/+", qos: 0 }, { filter: "c" }],
    });
    expect(source.config).toMatchObject({
      qos: 1,
      cleanStart: false,
      sessionExpirySeconds: 86_400,
      receiveMaximum: 1_000,
      keepaliveSeconds: 30,
    });
    expect(subscriptionsOf(source.config as Parameters<typeof subscriptionsOf>[0])).toEqual([
      { filter: "a/#", qos: 1 },
      { filter: "b/+", qos: 0 },
      { filter: "c", qos: 1 },
    ]);
  });

  it("needs a client id and at least one valid filter for the source", () => {
    let error: unknown;
    try {
      registry().createSource("mqtt", { url: "mqtt://h", topics: ["a/#/b"] });
    } catch (caught) {
      error = caught;
    }
    const message = String((error as Error).message);
    expect(message).toContain("clientId: ");
    expect(message).toContain('topics[0]: "#" must be the last level');
  });

  it("refuses a url that names no usable broker address, naming the url field and what it needs", () => {
    // An empty ${env:...} host, a port out of range, a space: mqtt.js would connect to
    // localhost for the first and fail with a bare "Invalid URL" on the others.
    for (const url of ["mqtt://", "mqtt://:1883", "mqtt://127.0.0.1:99999", "mqtts://a b:8883"]) {
      let error: unknown;
      try {
        registry().createSource("mqtt", { url, clientId: "c", topics: ["a"] });
      } catch (caught) {
        error = caught;
      }
      expect(error, url).toMatchObject({
        code: "SLUICE_INVALID_CONFIG",
        message: expect.stringContaining("url: Must name the broker's host"),
      });
    }
    expect(() =>
      registry().createSink("mqtt", { url: "ws://broker.example:8080/mqtt", topic: "t" }),
    ).not.toThrow();
  });

  it("refuses a sink topic with wildcards or an unknown placeholder", () => {
    expect(() => registry().createSink("mqtt", { url: "mqtt://h", topic: "a/+/b" })).toThrow(
      /topic: A topic to publish to cannot contain \+ or #/,
    );
    expect(() => registry().createSink("mqtt", { url: "mqtt://h", topic: "a/{id}" })).toThrow(
      /topic: Unknown placeholder \{id\}/,
    );
    const withFunction = registry().createSink("mqtt", {
      url: "mqtt://h",
      topic: (_record: unknown, index: number) => `a/${index}`,
    });
    expect(String(withFunction)).toContain("<function>");
  });

  it("never prints the password, in the url or in its own field", () => {
    // The TLS settings are checked when the config is validated: a real key and its certificate.
    const key = encryptedClientKey("pkcs8");
    const keyLine = key.split("\n")[1] ?? "";
    const instance = registry().createSink("mqtt", {
      url: "mqtts://ada:in-url-secret@h",
      password: "field-secret",
      tls: { cert: CLIENT_CERT, key, passphrase: KEY_PASSPHRASE },
      topic: "t",
    });
    const shown = `${String(instance)} ${JSON.stringify(instance)}`;
    for (const secret of ["in-url-secret", "field-secret", keyLine, KEY_PASSPHRASE]) {
      expect(shown).not.toContain(secret);
    }
  });
});

describe("retireSharedMember", () => {
  it("refuses a member with no shared subscription, before connecting: there is no group to hand over to", async () => {
    const connect = () => {
      throw new Error("must not connect");
    };
    await expect(
      retireSharedMember(
        { url: "mqtt://127.0.0.1:1", clientId: "ingest-3", topics: ["sensors/#"] },
        { connect },
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringContaining('"$share/<group>/<filter>"'),
    });
  });
});

describe("cluster mode", () => {
  const member: ClusterMembership = {
    group: "ingest",
    processId: "p1",
    kafka: { brokers: ["127.0.0.1:9092"] },
    reportPartitions: () => undefined,
    keyedPartitions: undefined,
    offerKeyedExchange: () => undefined,
  };
  const clustered = () => registry().register(CLUSTER_MEMBERSHIP, member);

  it("refuses a filter that is not shared: every process would receive every message", () => {
    expect(() =>
      clustered().createSource("mqtt", {
        hosts: ["h"],
        clientId: "ingest-1",
        topics: ["$share/ingest/sensors/#", "alerts/#"],
      }),
    ).toThrow(/cluster mode.*"alerts\/#" without sharing.*\$share\/<group>\/<filter>/);
  });

  it("refuses to read for a job with keyed state, saying how to split it", () => {
    const keyed = registry().register(CLUSTER_MEMBERSHIP, { ...member, keyedPartitions: 4 });
    expect(() =>
      keyed.createSource("mqtt", {
        hosts: ["h"],
        clientId: "ingest-1",
        topics: ["$share/ingest/sensors/#"],
      }),
    ).toThrow(/client id "ingest-1".*state across batches.*one Kafka source.*Split the job/);
  });

  it("takes shared subscriptions in cluster mode, and any filter outside it", () => {
    const shared = { hosts: ["h"], clientId: "ingest-1", topics: ["$share/ingest/sensors/#"] };
    expect(clustered().createSource("mqtt", shared).config).toMatchObject(shared);
    expect(registry().createSource("mqtt", { ...shared, topics: ["alerts/#"] })).toBeDefined();
  });
});
