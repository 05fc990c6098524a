// The broker is stopped mid-stream and started again (scripts/services/stop kafka, start
// kafka). A Kafka source feeds a transactional Kafka sink through Sluice's own retry loops
// (SourceSession, SinkSession) while a producer keeps writing the input; afterwards every
// input record was delivered once and is in the output once.
import type { Admin, Kafka } from "kafkajs";
import { type BackoffPolicy, type ConnectorRegistry, SinkSession, SourceSession } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROKERS,
  connectAdmin,
  connectProducer,
  createTopic,
  readTopic,
  testKafka,
  uniqueName,
  until,
} from "./kafka-helpers.js";
import { lockService, startService, stopService } from "./services.js";
import { createKafkaSink, createKafkaSource, kafkaRegistry, text } from "./source-harness.js";

let kafka: Kafka;
let admin: Admin;
let unlock: () => Promise<void>;
let registry: ConnectorRegistry;

const FAST: BackoffPolicy = { initialDelayMs: 50, maxDelayMs: 1_000, multiplier: 2, jitter: 0 };
const RECORDS = 150;
const encoder = new TextEncoder();

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  registry = kafkaRegistry();
});

afterAll(async () => {
  await registry?.dispose();
  await admin?.disconnect();
  // Whatever happened, leave the broker running for whoever comes next.
  await startService("kafka");
  await unlock?.();
});

describe("kafka server loss", () => {
  it("reconnects by itself after the broker restarts; nothing is lost or repeated", async () => {
    const input = uniqueName("loss-in");
    const output = uniqueName("loss-out");
    await createTopic(admin, input, 2);
    await createTopic(admin, output, 2);
    const source = createKafkaSource(registry, {
      brokers: BROKERS,
      topics: [input],
      groupId: uniqueName("loss-group"),
      startFrom: "earliest",
      pollTimeoutMs: 200,
      heartbeatIntervalMs: 500,
      // A member lost with the broker is forgotten after 6 s (the broker's minimum), so the
      // restarted consumer's rejoin does not wait for it long.
      sessionTimeoutMs: 6_000,
      rebalanceTimeoutMs: 10_000,
    });
    const sink = createKafkaSink(registry, {
      brokers: BROKERS,
      topic: output,
      transactionalId: uniqueName("loss-tx"),
    });
    const stop = new AbortController();
    const sourceSession = new SourceSession(source, { backoff: FAST });
    const sinkSession = new SinkSession(sink, { backoff: FAST });

    // The input: one record every 20 ms; a send that fails is tried again until it succeeds.
    let produced = 0;
    const producing = (async () => {
      const producer = await connectProducer(kafka);
      try {
        while (produced < RECORDS) {
          const value = `r${produced}`;
          try {
            await producer.send({ topic: input, messages: [{ key: `k${produced % 7}`, value }] });
            produced++;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    })();

    // Read when awaited below; this only keeps an early failure from counting as unhandled.
    producing.catch(() => undefined);

    // Sluice's loop: read, write the batch, acknowledge.
    const delivered: { partition: string; offset: bigint; value: string }[] = [];
    let target = Number.POSITIVE_INFINITY;
    let batchTime = 1_700_000_000_000;
    const pumping = (async () => {
      while (delivered.length < target) {
        const result = await sourceSession.next(stop.signal);
        if (result === undefined) throw new Error("the Kafka source ended its input");
        if (result.records.length > 0) {
          batchTime += 1_000;
          await sinkSession.write(
            result.records.map((record) => ({
              ...(record.key ? { key: record.key } : {}),
              value: encoder.encode(text(record.value)?.toUpperCase() ?? ""),
            })),
            { batchTime, partition: 0, idempotencyKey: `loss/${batchTime}/0/0` },
            stop.signal,
          );
          for (const record of result.records) {
            delivered.push({
              partition: record.partition,
              offset: BigInt(record.offset),
              value: text(record.value) ?? "",
            });
          }
        }
        await result.ack();
      }
    })();
    let pumpFailure: unknown;
    pumping.catch((error: unknown) => {
      pumpFailure = error;
    });
    const flowing = (count: number) => () => {
      if (pumpFailure !== undefined) throw pumpFailure;
      return delivered.length >= count;
    };

    try {
      await until(flowing(40), 30_000, "the first 40 records flowing through");
      await stopService("kafka");
      await startService("kafka");
      await producing;
      const ends = await admin.fetchTopicOffsets(input);
      target = ends.reduce((total, { high }) => total + Number(high), 0);
      await until(flowing(target), 60_000, `all ${target} records flowing through`);
      await pumping;
    } finally {
      stop.abort();
      await pumping.catch(() => undefined);
      await producing.catch(() => undefined);
    }

    // Every record of the input topic (what the broker really holds) was delivered once, in
    // offset order per partition.
    const inputs = await readTopic(kafka, admin, input);
    expect(inputs).toHaveLength(target);
    expect(delivered.map((record) => record.value).sort()).toEqual(
      inputs.map((message) => message.value).sort(),
    );
    for (const partition of [`${input}-0`, `${input}-1`]) {
      const offsets = delivered
        .filter((record) => record.partition === partition)
        .map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    // ... and is in the output once.
    const outputs = await readTopic(kafka, admin, output);
    expect(outputs.map((message) => message.value).sort()).toEqual(
      inputs.map((message) => message.value.toUpperCase()).sort(),
    );
    // The loss was felt: kafkajs restarted the consumer.
    expect(source.metrics.restarts).toBeGreaterThan(0);
  }, 150_000);
});
