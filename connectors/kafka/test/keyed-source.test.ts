// The Kafka source in cluster mode with a keyed part, against the real Kafka: it offers the
// keyed exchange, the exchange's writes commit with the batch's offsets in the source's
// transaction (also for a batch without records), and a Kafka sink cannot pair with it.
import type { Admin, Kafka, Producer } from "kafkajs";
import pino from "pino";
import { validateConfig } from "sluice";
import type { ClusterMembership, KeyedExchange, ReadResult } from "sluice/connector";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BROKERS,
  connectAdmin,
  connectProducer,
  createTopic,
  testKafka,
  uniqueName,
  until,
} from "../../../test/integration/kafka/kafka-helpers.js";
import { lockServers } from "../../../test/support/service-lock.js";
import { clusterSinkConfig, clusterSourceConfig } from "../src/cluster-mode.js";
import { createKafkaClient } from "../src/kafka-client.js";
import { KafkaSink } from "../src/kafka-sink.js";
import { KafkaSource } from "../src/kafka-source.js";
import { kafkaSinkConfig } from "../src/sink-config.js";
import { kafkaSourceConfig } from "../src/source-config.js";

const logger = pino({ level: "silent" });
const WAIT_MS = 20_000;

let release: () => Promise<void>;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  release = await lockServers(["kafka"]);
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
  // Other suites may hold the Kafka lock for a while.
}, 320_000);

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await release?.();
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

function membership(group: string, offered: KeyedExchange[]): ClusterMembership {
  return {
    group,
    processId: "p1",
    kafka: { brokers: BROKERS },
    keyedPartitions: 1,
    reportPartitions: () => undefined,
    offerKeyedExchange: (exchange) => offered.push(exchange),
  };
}

/** Reads until `count` records were handed out (keeping every read to acknowledge). */
async function readRecords(source: KafkaSource, count: number): Promise<ReadResult[]> {
  const reads: ReadResult[] = [];
  let records = 0;
  const signal = AbortSignal.timeout(WAIT_MS);
  while (records < count) {
    signal.throwIfAborted();
    const read = await source.read(signal);
    records += read.records.length;
    reads.push(read);
  }
  return reads;
}

/**
 * A two-partition input topic holding the records a to d, and a connected cluster-mode source
 * over it with a keyed part (one keyed partition), its exchange and the partitions it owns.
 */
async function keyedSourceOverFourRecords(prefix: string) {
  const group = uniqueName(prefix);
  const input = `${group}-in`;
  await createTopic(admin, input, 2);
  await producer.send({
    topic: input,
    messages: ["a", "b", "c", "d"].map((value, i) => ({ value, partition: i % 2 })),
  });
  const offered: KeyedExchange[] = [];
  const cluster = membership(group, offered);
  const config = clusterSourceConfig(
    validateConfig(
      kafkaSourceConfig,
      {
        brokers: BROKERS,
        topics: [input],
        groupId: "replaced",
        startFrom: "earliest",
        pollTimeoutMs: 100,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 300,
        maxWaitTimeMs: 100,
      },
      "kafka",
    ),
    cluster,
  );
  const source = new KafkaSource(config, logger, new Map(), createKafkaClient, {
    membership: cluster,
    connectorId: "kafka-1",
  });
  opened.push(source);
  await source.connect(AbortSignal.timeout(WAIT_MS));
  expect(offered).toHaveLength(1);
  const exchange = offered[0] as KeyedExchange;
  let owned: readonly number[] = [];
  exchange.onAssignment((partitions) => {
    owned = partitions;
  });
  return { group, input, cluster, config, source, exchange, owned: () => owned };
}

describe("Kafka source with a keyed part (cluster mode)", () => {
  it("offers the keyed exchange, whose batches commit with the source's offsets", async () => {
    const { group, input, cluster, config, source, exchange, owned } =
      await keyedSourceOverFourRecords("keyed-src");
    expect(config.transactionalId).toBe(`${group}.sluice-map.p1`);

    // Batch 1000: the four records, one chunk.
    const reads = await readRecords(source, 4);
    await exchange.write(1000, [Buffer.from("four records")]);
    for (const read of reads) await read.ack();
    await until(() => owned().length === 1, WAIT_MS, "keyed partition 0 assigned");
    expect(await exchange.restore(0)).toBeUndefined();
    const first = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
    expect(first.time).toBe(1000);
    expect(first.chunks.map((chunk) => Buffer.from(chunk).toString())).toEqual(["four records"]);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(committed?.partitions.map(({ offset }) => offset).sort()).toEqual(["2", "2"]);

    // Batch 2000 read nothing: its markers still commit and complete it.
    const idle = await source.read(AbortSignal.timeout(WAIT_MS));
    expect(idle.records).toHaveLength(0);
    await exchange.write(2000, [undefined]);
    await idle.ack();
    const second = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
    expect([second.time, second.chunks.length]).toEqual([2000, 0]);

    // A Kafka sink paired with this source is refused.
    const sink = new KafkaSink(
      clusterSinkConfig(
        validateConfig(
          kafkaSinkConfig,
          { brokers: BROKERS, topic: `${group}-out`, transactionalId: `${group}.sluice-map` },
          "kafka",
        ),
        cluster,
      ),
      logger,
    );
    opened.push(sink);
    await expect(sink.connect(AbortSignal.timeout(WAIT_MS))).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringMatching(/keyed part/),
    });
  });
});

// The keyed exchange's transaction of a batch that handed out no read (cut before the source's
// first read, or while it was paused) is committed when the next batch writes: no
// acknowledgement would ever commit it, and the next batch's write (and so its reads'
// acknowledgements, and a graceful stop draining the batches) would wait for it forever.
describe("Kafka source with a keyed part: a batch without reads", () => {
  it("commits the batch's markers when the next batch writes, and that batch commits its offsets", async () => {
    const { group, input, source, exchange, owned } =
      await keyedSourceOverFourRecords("keyed-first");
    // Batch 1000 was cut before the first read: its markers, and no acknowledgement.
    await exchange.write(1000, [undefined]);
    // Batch 2000 holds the four records; its reads are acknowledged only after its write.
    const signal = AbortSignal.timeout(WAIT_MS);
    const reads = await readRecords(source, 4);
    const written = exchange.write(2000, [Buffer.from("four records")]);
    await raceSignal(written, signal, "batch 2000's write waits for batch 1000's transaction");
    for (const read of reads) await read.ack();

    await until(() => owned().length === 1, WAIT_MS, "keyed partition 0 assigned");
    expect(await exchange.restore(0)).toBeUndefined();
    const first = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
    expect([first.time, first.chunks.length]).toEqual([1000, 0]);
    const second = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
    expect(second.time).toBe(2000);
    expect(second.chunks.map((chunk) => Buffer.from(chunk).toString())).toEqual(["four records"]);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(committed?.partitions.map(({ offset }) => offset).sort()).toEqual(["2", "2"]);
  });
});

/** `promise`, or a rejection naming `what` once `signal` aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(new Error(`timed out: ${what}`)), {
        once: true,
      });
    }),
  ]);
}
