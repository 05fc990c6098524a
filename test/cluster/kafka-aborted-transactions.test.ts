// Reading what several transactional writers left in one partition, as the keyed exchange reads
// its repartition topic and a cluster job's readers read its output: a transaction that began
// before another and was aborted after it (a killed process's, aborted by the broker's timeout
// after the survivors' rebalance aborted theirs) must not be read. kafkajs alone reads it: its
// filter takes the aborted transactions in the order of their abort markers.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { validateConfig } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KafkaSource } from "../../connectors/kafka/src/kafka-source.js";
import { kafkaSourceConfig } from "../../connectors/kafka/src/source-config.js";
import { lockServers } from "../support/service-lock.js";

const BROKERS = ["127.0.0.1:9092"];

let release: () => Promise<void>;
let kafka: Kafka;
let topic: string;

beforeEach(async () => {
  release = await lockServers(["kafka"]);
  kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Kafka is not answering on ${BROKERS[0]}: start it with scripts/services/start kafka (${String(error)})`,
    );
  }
  topic = `aborted-order-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
});

afterEach(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await release?.();
});

async function transactionalProducer(name: string) {
  const producer = kafka.producer({
    transactionalId: `${topic}-${name}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

describe("read_committed reads of interleaved transactions", () => {
  it("a transaction aborted after a later one that aborted first is not read", async () => {
    const killed = await transactionalProducer("killed");
    const survivor = await transactionalProducer("survivor");
    const next = await transactionalProducer("next");
    try {
      const early = await killed.transaction();
      await early.send({ topic, messages: [{ value: "aborted-1" }, { value: "aborted-2" }] });
      const later = await survivor.transaction();
      await later.send({ topic, messages: [{ value: "aborted-3" }] });
      await later.abort();
      await early.abort();
      const committed = await next.transaction();
      await committed.send({
        topic,
        messages: [{ value: "committed-1" }, { value: "committed-2" }],
      });
      await committed.commit();
    } finally {
      for (const producer of [killed, survivor, next]) await producer.disconnect();
    }

    const config = validateConfig(
      kafkaSourceConfig,
      {
        brokers: BROKERS,
        topics: [topic],
        groupId: `${topic}-reader`,
        startFrom: "earliest",
        pollTimeoutMs: 200,
        maxWaitTimeMs: 100,
      },
      "source",
    );
    const source = new KafkaSource(config, pino({ level: "silent" }));
    await source.connect(AbortSignal.timeout(30_000));
    const read: string[] = [];
    try {
      // The committed records come last: once they are in, everything before was decided.
      while (!read.includes("committed-2")) {
        const result = await source.read(AbortSignal.timeout(30_000));
        read.push(...result.records.map((record) => Buffer.from(record.value).toString()));
        await result.ack();
      }
    } finally {
      await source.close();
    }
    expect(read).toEqual(["committed-1", "committed-2"]);
  }, 90_000);
});
