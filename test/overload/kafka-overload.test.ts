import type { Admin } from "kafkajs";
import type { SourceInputDStream } from "sluice/advanced";
import { afterAll, beforeAll } from "vitest";
import { kafkaSource } from "../../connectors/kafka/src/index.js";
import {
  BROKERS,
  connectAdmin,
  createTopic,
  testKafka,
  uniqueName,
} from "../integration/kafka/kafka-helpers.js";
import { lockServer } from "../support/service-lock.js";
import {
  BROKER_OVERLOAD,
  describeOverload,
  lineOf,
  type OverloadBounds,
  type OverloadMeasurements,
  overloadContext,
  runOverload,
  runProducerProcess,
} from "./overload-harness.js";

// BROKER_OVERLOAD's scale. Two producers write the records over 4 partitions as fast as the broker
// takes them (idempotent, acks from all replicas) while the job starts: 23 000 to 33 000 records a
// second here, 14 to 20 times what the job processes (2 to 12 times with other tests running and a
// busy loop on one of the two cores; the harness checks the factor reached against the job's
// measured rate). The live heap holds the queue, the source's per-partition buffers (PARTITIONS ×
// BUFFERED_PER_PARTITION, plus one fetch each) and kafkajs's fetches; the values are slices of
// kafkajs's fetch responses (Buffers, outside the V8 heap), and a held record keeps its whole
// response alive. Settling is counted from the first batch holding records: joining the consumer
// group before it takes a variable number of batches.
const {
  bounds,
  recordBytes: RECORD_BYTES,
  costMicrosPerRecord: COST_MICROS_PER_RECORD,
} = BROKER_OVERLOAD;
const PARTITIONS = 4;
const BUFFERED_PER_PARTITION = 400;
const PRODUCERS = 2;
const RECORDS_PER_SEND = 250;

let admin: Admin;
let unlock: (() => Promise<void>) | undefined;
const topics: string[] = [];

beforeAll(async () => {
  // Other suites stop and restart Kafka under this lock; none may do so mid-run.
  unlock = await lockServer("kafka");
  admin = await connectAdmin(testKafka());
}, 120_000);

afterAll(async () => {
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

// The producers run in a process of their own, as producers do: their buffers stay out of the
// job's memory and they do not share the job's event loop. They write every record
// (`<index> <padding>`, the harness's lineOf), spread evenly over the partitions and taking
// turns by send, as fast as the broker takes them, and print the milliseconds it took.
const PRODUCER = `
import { Kafka, logLevel, Partitioners } from "kafkajs";
const { brokers, topic, records, bytes, partitions, producers, perSend } = JSON.parse(process.env.OVERLOAD_PRODUCER);
const lineOf = ${lineOf.toString()};
const kafka = new Kafka({ clientId: "sluice-overload-producer", brokers, logLevel: logLevel.ERROR });
const clients = await Promise.all(Array.from({ length: producers }, async () => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}));
const started = Date.now();
await Promise.all(clients.map(async (producer, turn) => {
  for (let start = turn * perSend; start < records; start += perSend * producers) {
    const messages = [];
    for (let index = start; index < Math.min(records, start + perSend); index++) {
      messages.push({ value: lineOf(index, bytes), partition: index % partitions });
    }
    await producer.send({ topic, acks: -1, messages });
  }
}));
process.stdout.write(String(Date.now() - started));
await Promise.all(clients.map((producer) => producer.disconnect()));
`;

/** Writes every record from a producer process; resolves with the milliseconds it took. */
async function produceAll(topic: string): Promise<number> {
  return runProducerProcess(PRODUCER, {
    brokers: BROKERS,
    topic,
    records: bounds.records,
    bytes: RECORD_BYTES,
    partitions: PARTITIONS,
    producers: PRODUCERS,
    perSend: RECORDS_PER_SEND,
  });
}

async function overload(backpressure: boolean): Promise<OverloadMeasurements> {
  const topic = uniqueName("overload");
  topics.push(topic);
  await createTopic(admin, topic, PARTITIONS);
  const ctx = overloadContext(bounds, backpressure);
  ctx.use(kafkaSource);
  const input = ctx.source(
    "kafka",
    {
      brokers: BROKERS,
      topics: [topic],
      groupId: uniqueName("overload"),
      startFrom: "earliest",
      maxBufferedRecordsPerPartition: BUFFERED_PER_PARTITION,
      // A held record keeps its whole fetch response alive: fetches of 256 KiB (128 records)
      // rather than the default 1 MiB keep what the queue pins to a few MB.
      maxBytesPerPartition: 256 * 1024,
      pollTimeoutMs: 100,
      maxWaitTimeMs: 100,
    },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  return runOverload(
    {
      ctx,
      input,
      costMicrosPerRecord: COST_MICROS_PER_RECORD,
      produce: () => produceAll(topic),
      until: "all-processed",
    },
    bounds,
  );
}

/** The bounds, with the settling batches counted from the first batch holding records. */
function settledFromInput(run: OverloadMeasurements): OverloadBounds {
  return { ...bounds, settleBatches: run.batchesBeforeInput() + bounds.settleBatches };
}

describeOverload({
  source: "Kafka",
  record: "record",
  bounds,
  overload,
  boundsOf: settledFromInput,
});
