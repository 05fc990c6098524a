// Kafka and Cassandra are stopped mid-stream and started again (scripts/services/stop kafka
// cassandra, then start). A Kafka source feeds a transactional Kafka sink and a Cassandra sink
// through Sluice's own retry loops (SourceSession, SinkSession) while a producer keeps writing
// the input. No connector is restarted by the test: each reconnects by itself. Afterwards every
// input record was delivered once, is in the Kafka output once, and has its row in Cassandra.
// (Both servers go down together so the suite pays for one restart, not two.)
import type { Client } from "cassandra-driver";
import type { Admin, Kafka } from "kafkajs";
import { type ConnectorRegistry, SinkSession, SourceSession } from "sluice/advanced";
import type { BackoffPolicy } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink, type RecordPosition } from "../../../connectors/cassandra/src/index.js";
import {
  CONTACT_POINTS,
  uniqueName as cassandraName,
  connectClient,
  createCassandraSink,
  createKeyspace,
} from "../cassandra/cassandra-helpers.js";
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
let cassandra: Client | undefined;
let unlockKafka: () => Promise<void>;
let unlockCassandra: () => Promise<void>;
let registry: ConnectorRegistry;
const keyspace = cassandraName("loss");

const FAST: BackoffPolicy = { initialDelayMs: 50, maxDelayMs: 1_000, multiplier: 2, jitter: 0 };
const RECORDS = 150;
/** Records written after the servers are back, at least. */
const RECORDS_AFTER_RESTART = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

beforeAll(async () => {
  unlockKafka = await lockService("kafka");
  unlockCassandra = await lockService("cassandra");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  const setup = await connectClient();
  await createKeyspace(setup, keyspace);
  // "batch" is a reserved word: the sink must quote it.
  await setup.execute(`CREATE TABLE ${keyspace}.events (value text PRIMARY KEY, "batch" bigint)`);
  await setup.shutdown();
  registry = kafkaRegistry().use(cassandraSink);
});

afterAll(async () => {
  await registry?.dispose();
  await admin?.disconnect();
  // Whatever happened, leave both servers running for whoever comes next.
  await startService("kafka", "cassandra");
  cassandra ??= await connectClient();
  await cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await cassandra.shutdown();
  await unlockCassandra?.();
  await unlockKafka?.();
});

describe("server loss", () => {
  it("Kafka and Cassandra restart mid-stream; the connectors reconnect and nothing is lost or repeated", async () => {
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
    const kafkaOut = createKafkaSink(registry, {
      brokers: BROKERS,
      topic: output,
      transactionalId: uniqueName("loss-tx"),
    });
    const cassandraOut = createCassandraSink(registry, {
      contactPoints: CONTACT_POINTS,
      keyspace,
      table: "events",
      maxAttempts: 3,
      retryDelayMs: 50,
      connectTimeoutMs: 2_000,
      mapRecord: (record: { value: Uint8Array }, position: RecordPosition) => ({
        value: decoder.decode(record.value),
        batch: position.batchTime,
      }),
    });
    const stop = new AbortController();
    const sourceSession = new SourceSession(source, { backoff: FAST });
    const kafkaSession = new SinkSession(kafkaOut, { backoff: FAST });
    const cassandraSession = new SinkSession(cassandraOut, { backoff: FAST });

    // The input: one record every 20 ms; a send that fails is tried again until it succeeds.
    // It goes on until some records were written after the restart, however long the consumer
    // took to join and the servers to stop and start: the loss always falls mid-stream.
    let produced = 0;
    let restarted = false;
    let producedAfterRestart = 0;
    const producing = (async () => {
      const producer = await connectProducer(kafka);
      try {
        while (produced < RECORDS || producedAfterRestart < RECORDS_AFTER_RESTART) {
          const value = `r${produced}`;
          try {
            await producer.send({ topic: input, messages: [{ key: `k${produced % 7}`, value }] });
            produced++;
            if (restarted) producedAfterRestart++;
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

    // Sluice's loop: read, write the batch to both sinks, acknowledge.
    const delivered: { partition: string; offset: bigint; value: string }[] = [];
    let target = Number.POSITIVE_INFINITY;
    let batchTime = 1_700_000_000_000;
    const pumping = (async () => {
      while (delivered.length < target) {
        const result = await sourceSession.next(stop.signal);
        if (result === undefined) throw new Error("the Kafka source ended its input");
        if (result.records.length > 0) {
          batchTime += 1_000;
          const context = { batchTime, partition: 0, idempotencyKey: `loss/${batchTime}/0/0` };
          await kafkaSession.write(
            result.records.map((record) => ({
              ...(record.key ? { key: record.key } : {}),
              value: encoder.encode(text(record.value)?.toUpperCase() ?? ""),
            })),
            context,
            stop.signal,
          );
          await cassandraSession.write(result.records, context, stop.signal);
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
      // Cassandra goes first, and Kafka only once a Cassandra write has failed: so the sink
      // feels the loss whatever the timing (with both stopped at once, the pump can wait on
      // Kafka the whole time and find Cassandra back before its next write).
      await stopService("cassandra");
      await until(
        () => {
          if (pumpFailure !== undefined) throw pumpFailure;
          return cassandraOut.metrics.errors + cassandraOut.metrics.retries > 0;
        },
        60_000,
        "a Cassandra write failing",
      );
      await stopService("kafka");
      const beforeRestart = delivered.length;
      await startService("kafka", "cassandra");
      restarted = true;
      await producing;
      const ends = await admin.fetchTopicOffsets(input);
      target = ends.reduce((total, { high }) => total + Number(high), 0);
      expect(beforeRestart).toBeLessThan(target);
      await until(flowing(target), 60_000, `all ${target} records flowing through`);
      await pumping;
    } finally {
      stop.abort();
      await pumping.catch(() => undefined);
      await producing.catch(() => undefined);
    }

    // Every record of the input topic (what the broker really holds) was delivered once, in
    // offset order per partition ...
    const inputs = (await readTopic(kafka, admin, input)).map((message) => message.value);
    expect(inputs).toHaveLength(target);
    expect(delivered.map((record) => record.value).sort()).toEqual([...inputs].sort());
    for (const partition of [`${input}-0`, `${input}-1`]) {
      const offsets = delivered
        .filter((record) => record.partition === partition)
        .map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    // ... is in the Kafka output once ...
    const outputs = await readTopic(kafka, admin, output);
    expect(outputs.map((message) => message.value).sort()).toEqual(
      inputs.map((value) => value.toUpperCase()).sort(),
    );
    // ... and has its row in Cassandra.
    cassandra = await connectClient();
    const rows = await cassandra.execute(`SELECT value FROM ${keyspace}.events`);
    expect(rows.rows.map((row) => String(row.get("value"))).sort()).toEqual([...inputs].sort());
    // The loss was felt: the consumer saw the broker go (kafkajs restarted it, or it rejoined
    // the group and was assigned again, or a fetch or commit failed: which of these depends on
    // what it was doing when the broker stopped), and Cassandra writes failed.
    const { restarts, rebalances, errors, commitErrors } = source.metrics;
    const felt = {
      restarts,
      reassignments: rebalances - 1,
      errors,
      commitErrors,
      reconnects: sourceSession.reconnects,
    };
    expect(
      Object.values(felt).some((count) => count > 0),
      JSON.stringify(felt),
    ).toBe(true);
    expect(cassandraOut.metrics.errors + cassandraOut.metrics.retries).toBeGreaterThan(0);
  }, 180_000);
});
