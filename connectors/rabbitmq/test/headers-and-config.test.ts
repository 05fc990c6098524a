import type { ConsumeMessage } from "amqplib";
import { ConnectorRegistry } from "sluice/advanced";
import { CLUSTER_MEMBERSHIP, type ClusterMembership } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import {
  CLIENT_CERT,
  encryptedClientKey,
  KEY_PASSPHRASE,
} from "../../../core/test/connector/tls-fixtures.js";
import { amqpHeaders, recordHeaders } from "../src/headers.js";
import { rabbitmqSink, rabbitmqSource } from "../src/index.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

describe("headers", () => {
  it("turns AMQP headers and delivery details into record headers", () => {
    const message = {
      content: Buffer.from("x"),
      fields: {
        deliveryTag: 1,
        redelivered: true,
        exchange: "ex",
        routingKey: "rk",
        consumerTag: "c",
      },
      properties: {
        headers: {
          text: "t",
          count: 3,
          flag: false,
          raw: Buffer.from([1, 2]),
          nested: { a: [1] },
          none: null,
        },
        messageId: "m",
        contentType: "text/plain",
      },
    } as unknown as ConsumeMessage;
    const headers = recordHeaders(message);
    const shown = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, decoder.decode(value)]),
    );
    expect(shown).toEqual({
      text: "t",
      count: "3",
      flag: "false",
      raw: "\u0001\u0002",
      nested: '{"a":[1]}',
      "amqp-exchange": "ex",
      "amqp-routing-key": "rk",
      "amqp-redelivered": "true",
      "amqp-message-id": "m",
      "amqp-content-type": "text/plain",
    });
  });

  it("copies a byte-array header out of the frame amqplib read it from", () => {
    const frame = Buffer.alloc(64 * 1024, 7);
    const message = {
      content: Buffer.from("x"),
      fields: { deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q" },
      properties: { headers: { raw: frame.subarray(100, 104) } },
    } as unknown as ConsumeMessage;
    const raw = recordHeaders(message).raw;
    expect([...(raw ?? [])]).toEqual([7, 7, 7, 7]);
    expect(raw?.buffer.byteLength).toBe(4);
  });

  it("publishes UTF-8 headers as text, other bytes as bytes, and never the delivery details", () => {
    const headers = amqpHeaders({
      region: encoder.encode("eu"),
      blob: new Uint8Array([0xff, 0x00]),
      "amqp-routing-key": encoder.encode("old"),
    });
    expect(headers.region).toBe("eu");
    expect(Buffer.isBuffer(headers.blob)).toBe(true);
    expect([...(headers.blob as Buffer)]).toEqual([0xff, 0x00]);
    expect(headers).not.toHaveProperty("amqp-routing-key");
  });
});

describe("config", () => {
  const registry = () =>
    new ConnectorRegistry({ logger: new LogCapture().logger })
      .use(rabbitmqSource)
      .use(rabbitmqSink);

  it("declares the source not replayable (its records go through the write-ahead log) and the sink not idempotent", () => {
    expect(rabbitmqSource.capabilities.replayable).toBe(false);
    expect(rabbitmqSink.capabilities.idempotent).toBe(false);
  });

  it("needs exactly one of url and hosts", () => {
    expect(() => registry().createSource("rabbitmq", { queue: { name: "q" } })).toThrow(
      /url: Give url \(e.g. "amqp:\/\/127.0.0.1:5672"\)/,
    );
    expect(() => registry().createSink("rabbitmq", { url: "amqp://h", hosts: ["h:1"] })).toThrow(
      /hosts: Give either url or hosts, not both/,
    );
  });

  it("refuses a url it could not connect with, naming the url field and never the password", () => {
    const problems = [
      ["amqp://127.0.0.1:99999", /url: Is not a valid URL: check the host and that the port/],
      ["amqp://127.0.0.1:0", /url: Has port 0/],
      [
        "amqp://app:hunter2@127.0.0.1/orders%zz",
        /url: Has a malformed percent-escape in its vhost/,
      ],
      ["amqp://app:hun%zzter2@127.0.0.1/", /url: Has a malformed percent-escape in its password/],
    ] as const;
    for (const [url, expected] of problems) {
      let error: unknown;
      try {
        registry().createSource("rabbitmq", { url, queue: { name: "q" } });
      } catch (caught) {
        error = caught;
      }
      expect(error, url).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
      expect(String((error as Error).message), url).toMatch(expected);
      expect(String((error as Error).message), url).not.toContain("hunter2");
      expect(String((error as Error).message), url).not.toContain("hun%zzter2");
    }
  });

  it("reports a bad routing key template with the placeholders it knows", () => {
    let error: unknown;
    try {
      registry().createSink("rabbitmq", { url: "amqp://h", routingKey: "a.{id}" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
    expect(String((error as Error).message)).toMatch(
      /routingKey: Unknown placeholder \{id\}; use \{key\}/,
    );
  });

  it("takes a routing key function and prints it without secrets", () => {
    // The TLS settings are checked when the config is validated: a real key and its certificate.
    const key = encryptedClientKey("pkcs8");
    const keyLine = key.split("\n")[1] ?? "";
    const instance = registry().createSink("rabbitmq", {
      url: "amqp://ada:topsecret@h",
      tls: { cert: CLIENT_CERT, key, passphrase: KEY_PASSPHRASE },
      routingKey: (_record: unknown, index: number) => `n.${index}`,
    });
    const shown = `${String(instance)} ${JSON.stringify(instance)}`;
    expect(shown).not.toContain("topsecret");
    expect(shown).not.toContain(keyLine);
    expect(shown).not.toContain(KEY_PASSPHRASE);
    expect(shown).toContain("<function>");
  });

  it("says how long a dead connection goes unnoticed: two missed heartbeats, or TCP's timeout without them", () => {
    const source = (heartbeatSeconds?: number) =>
      registry().createSource("rabbitmq", {
        hosts: ["h"],
        queue: { name: "q" },
        ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
      }).connector;
    expect(source().deadConnectionTimeoutMs?.()).toBe(90_000);
    expect(source(5).deadConnectionTimeoutMs?.()).toBe(40_000);
    expect(source(0).deadConnectionTimeoutMs?.()).toBe(16 * 60_000);
  });

  it("applies the defaults: declared durable queue, prefetch 1000, persistent mandatory messages", () => {
    const source = registry().createSource("rabbitmq", { hosts: ["h"], queue: { name: "q" } });
    expect(source.config).toMatchObject({
      queue: { name: "q", declare: true, durable: true, exclusive: false, autoDelete: false },
      bindings: [],
      prefetch: 1000,
      heartbeatSeconds: 30,
    });
    const sink = registry().createSink("rabbitmq", { hosts: ["h"] });
    expect(sink.config).toMatchObject({
      exchange: "",
      routingKey: "",
      persistent: true,
      mandatory: true,
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
  const registry = () =>
    new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSource);

  it("refuses an exclusive queue: the other processes could never consume it", () => {
    const config = { hosts: ["h"], queue: { name: "orders", exclusive: true } };
    expect(() =>
      registry().register(CLUSTER_MEMBERSHIP, member).createSource("rabbitmq", config),
    ).toThrow(/cluster mode.*queue\.exclusive is true/);
    // Alone, an exclusive queue is the job's own.
    expect(registry().createSource("rabbitmq", config)).toBeDefined();
  });

  it("refuses to read for a job with keyed state, saying how to split it", () => {
    expect(() =>
      registry()
        .register(CLUSTER_MEMBERSHIP, { ...member, keyedPartitions: 4 })
        .createSource("rabbitmq", { hosts: ["h"], queue: { name: "orders" } }),
    ).toThrow(/queue "orders".*state across batches.*one Kafka source.*Split the job/);
  });

  it("takes a shared queue in cluster mode", () => {
    const source = registry()
      .register(CLUSTER_MEMBERSHIP, member)
      .createSource("rabbitmq", { hosts: ["h"], queue: { name: "orders" } });
    expect(source.config).toMatchObject({ queue: { name: "orders", exclusive: false } });
  });
});
