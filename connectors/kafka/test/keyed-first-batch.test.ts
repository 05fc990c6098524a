// The keyed exchange's transaction of a batch that handed out no read (cut before the source's
// first read, or while it was paused) is committed when the next batch writes: no
// acknowledgement would ever commit it, and the next batch's write (and so its reads'
// acknowledgements, and a graceful stop draining the batches) would wait for it forever.
import type { Admin, Kafka, Producer } from "kafkajs";
import pino from "pino";
import { validateConfig } from "sluice";
import type { ClusterMembership, KeyedExchange, ReadResult } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { clusterSourceConfig } from "../src/cluster-mode.js";
import { createKafkaClient } from "../src/kafka-client.js";
import { KafkaSource } from "../src/kafka-source.js";
import { kafkaSourceConfig } from "../src/source-config.js";

const logger = pino({ level: "silent" });
const WAIT_MS = 20_000;

let release: () => Promise<void>;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

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

describe("Kafka source with a keyed part: a batch without reads", () => {
  it("commits the batch's markers when the next batch writes, and that batch commits its offsets", async () => {
    const group = uniqueName("keyed-first");
    const input = `${group}-in`;
    await createTopic(admin, input, 2);
    await producer.send({
      topic: input,
      messages: ["a", "b", "c", "d"].map((value, i) => ({ value, partition: i % 2 })),
    });
    const offered: KeyedExchange[] = [];
    const cluster: ClusterMembership = {
      group,
      processId: "p1",
      kafka: { brokers: BROKERS },
      keyedPartitions: 1,
      reportPartitions: () => undefined,
      offerKeyedExchange: (exchange) => offered.push(exchange),
    };
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
    try {
      await source.connect(AbortSignal.timeout(WAIT_MS));
      const exchange = offered[0] as KeyedExchange;
      let owned: readonly number[] = [];
      exchange.onAssignment((partitions) => {
        owned = partitions;
      });

      // Batch 1000 was cut before the first read: its markers, and no acknowledgement.
      await exchange.write(1000, [undefined]);
      // Batch 2000 holds the four records; its reads are acknowledged only after its write.
      const reads: ReadResult[] = [];
      let records = 0;
      const signal = AbortSignal.timeout(WAIT_MS);
      while (records < 4) {
        const read = await source.read(signal);
        records += read.records.length;
        reads.push(read);
      }
      const written = exchange.write(2000, [Buffer.from("four records")]);
      await raceSignal(written, signal, "batch 2000's write waits for batch 1000's transaction");
      for (const read of reads) await read.ack();

      await until(() => owned.length === 1, WAIT_MS, "keyed partition 0 assigned");
      expect(await exchange.restore(0)).toBeUndefined();
      const first = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
      expect([first.time, first.chunks.length]).toEqual([1000, 0]);
      const second = await exchange.nextBatch(0, AbortSignal.timeout(WAIT_MS));
      expect(second.time).toBe(2000);
      expect(second.chunks.map((chunk) => Buffer.from(chunk).toString())).toEqual(["four records"]);
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
      expect(committed?.partitions.map(({ offset }) => offset).sort()).toEqual(["2", "2"]);
    } finally {
      await source.close();
    }
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
