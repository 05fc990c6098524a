// The Kafka source under overload, against the broker of `scripts/services/start kafka` (the
// test fails, naming the command, when it is not running).
import type { Admin, Kafka, Producer } from "kafkajs";
import { type SourceInputDStream, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaSource } from "../../connectors/kafka/src/index.js";
import {
  BROKERS,
  connectAdmin,
  connectProducer,
  createTopic,
  testKafka,
  uniqueName,
} from "../integration/kafka/kafka-helpers.js";
import { lockServer } from "../support/service-lock.js";
import {
  expectOverloadHandled,
  expectQueueFillsWithoutBackpressure,
  expectRateLimitedQueue,
  lineOf,
  measureOverload,
  type OverloadBounds,
  type OverloadMeasurements,
  stopWhenProcessed,
} from "./overload-harness.js";

// The job processes 10 000 records a second (100 µs each). Two producers write 60 000 records
// of 200 bytes over 4 partitions as fast as the broker takes them (idempotent, acks from all
// replicas) while the job starts: 0.7 to 1.6 s here, 4 to 9 times what the job processes, so
// intake must be held back.
const bounds: OverloadBounds = {
  records: 60_000,
  maxBufferedRecords: 10_000, // 2 MB of values
  // 12 MB go through; the live heap holds the queue, the source's per-partition buffers
  // (PARTITIONS × BUFFERED_PER_PARTITION, plus one fetch each) and kafkajs's fetches, never all
  // of it (11 to 16 MB measured).
  maxHeapGrowthBytes: 32 * 1024 * 1024,
  // The values are slices of kafkajs's fetch responses (Buffers, outside the V8 heap): a held
  // record keeps its whole response alive (3 to 11 MB measured).
  maxBufferGrowthBytes: 24 * 1024 * 1024,
  batchIntervalMs: 200,
  // Counted from the first batch holding records: joining the consumer group before it takes
  // a variable number of batches.
  settleBatches: 10,
};
const PARTITIONS = 4;
const BUFFERED_PER_PARTITION = 2_500;
const RECORD_BYTES = 200;
const COST_MICROS_PER_RECORD = 100;
const JOB_RECORDS_PER_SECOND = 1_000_000 / COST_MICROS_PER_RECORD;
const PRODUCERS = 2;
const RECORDS_PER_SEND = 1_000;

let kafka: Kafka;
let admin: Admin;
let unlock: (() => Promise<void>) | undefined;
const topics: string[] = [];

beforeAll(async () => {
  // Other suites stop and restart Kafka under this lock; none may do so mid-run.
  unlock = await lockServer("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
}, 120_000);

afterAll(async () => {
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

/**
 * Writes every record (`<index> <padding>`), spread evenly over the partitions; the producers
 * take turns by send. Resolves with the milliseconds it took.
 */
async function produceAll(producers: readonly Producer[], topic: string): Promise<number> {
  const started = Date.now();
  await Promise.all(producers.map((producer, turn) => produceTurns(producer, topic, turn)));
  return Date.now() - started;
}

async function produceTurns(producer: Producer, topic: string, turn: number): Promise<void> {
  const stride = RECORDS_PER_SEND * PRODUCERS;
  for (let start = turn * RECORDS_PER_SEND; start < bounds.records; start += stride) {
    const messages = [];
    for (let index = start; index < Math.min(bounds.records, start + RECORDS_PER_SEND); index++) {
      messages.push({ value: lineOf(index, RECORD_BYTES), partition: index % PARTITIONS });
    }
    await producer.send({ topic, acks: -1, messages });
  }
}

async function overload(backpressure: boolean) {
  const topic = uniqueName("overload");
  topics.push(topic);
  await createTopic(admin, topic, PARTITIONS);
  const producers = await Promise.all(
    Array.from({ length: PRODUCERS }, () => connectProducer(kafka)),
  );
  const ctx = new StreamingContext({
    batchInterval: bounds.batchIntervalMs,
    defaultParallelism: 1,
    backpressure: { enabled: backpressure },
  });
  ctx.use(kafkaSource);
  const input = ctx.source(
    "kafka",
    {
      brokers: BROKERS,
      topics: [topic],
      groupId: uniqueName("overload"),
      startFrom: "earliest",
      maxBufferedRecordsPerPartition: BUFFERED_PER_PARTITION,
      pollTimeoutMs: 100,
      maxWaitTimeMs: 100,
    },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  const run = measureOverload(ctx, input, bounds.records, COST_MICROS_PER_RECORD);
  let producedInMs: number;
  try {
    const producing = produceAll(producers, topic);
    await ctx.start();
    producedInMs = await producing;
    await stopWhenProcessed(ctx, run, bounds.records, 40_000);
  } finally {
    run.stop();
    await ctx.stop();
    await Promise.all(producers.map((producer) => producer.disconnect()));
  }
  // The premise: the producer offered far more than the job processes.
  expect(bounds.records / (producedInMs / 1000)).toBeGreaterThan(2 * JOB_RECORDS_PER_SECOND);
  return run;
}

/** The bounds, with the settling batches counted from the first batch holding records. */
function settledFromInput(run: OverloadMeasurements): OverloadBounds {
  return { ...bounds, settleBatches: run.batchesBeforeInput() + bounds.settleBatches };
}

describe("Kafka source under overload", () => {
  it("with backpressure, reads at the rate the job processes and processes every record once", async () => {
    const run = await overload(true);
    expectOverloadHandled(run, settledFromInput(run));
    expectRateLimitedQueue(run, settledFromInput(run));
  }, 45_000);

  it("without backpressure, fills its queue to the bound, which still caps memory", async () => {
    const run = await overload(false);
    expectOverloadHandled(run, settledFromInput(run));
    expectQueueFillsWithoutBackpressure(run, settledFromInput(run));
  }, 45_000);
});
