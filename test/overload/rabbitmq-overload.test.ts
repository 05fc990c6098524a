// The RabbitMQ source under overload, against the broker of `scripts/services/start rabbitmq`
// (the test fails, naming the command, when it is not running). The job checkpoints, so each
// read goes to the write-ahead log and is acknowledged to the broker right after: the prefetch
// window then bounds only what waits unread in the source, and nothing but flow control keeps
// the source from taking the whole queue in.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelModel } from "amqplib";
import type { SourceInputDStream } from "sluice/advanced";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { rabbitmqSource } from "../../connectors/rabbitmq/src/index.js";
import type { RabbitMqSource } from "../../connectors/rabbitmq/src/rabbitmq-source.js";
import { adminConnection, GUEST_URL, uniqueName } from "../integration/rabbitmq/broker.js";
import { lockServer } from "../support/service-lock.js";
import {
  BROKER_OVERLOAD,
  describeOverload,
  lineOf,
  type OverloadMeasurements,
  overloadContext,
  runOverload,
  runProducerProcess,
} from "./overload-harness.js";

// BROKER_OVERLOAD's scale. The producer publishes as fast as the broker takes messages, 20 000
// to 35 000 a second here (over 10 times what the job processes; the harness checks the factor
// reached against the job's measured rate), while the job runs. The source
// holds at most the queue and the prefetch window (1 MB of values). The queue is transient and
// the messages not persistent: persisting them halves the broker's intake here, and durability
// is not what this test is about.
const {
  bounds,
  recordBytes: RECORD_BYTES,
  costMicrosPerRecord: COST_MICROS_PER_RECORD,
} = BROKER_OVERLOAD;
const PREFETCH = 500;

let admin: ChannelModel;
let unlock: (() => Promise<void>) | undefined;
let root: string;
const queues: string[] = [];

beforeAll(async () => {
  // The integration suite stops and restarts RabbitMQ under this lock; never mid-run.
  unlock = await lockServer("rabbitmq");
  admin = await adminConnection();
}, 360_000);

afterAll(async () => {
  if (admin !== undefined) {
    const channel = await admin.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue).catch(() => undefined);
    await admin.close();
  }
  await unlock?.();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-rabbitmq-overload-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

// The producer runs in a process of its own, as producers do: its buffers stay out of the
// job's memory and it does not share the job's event loop. It publishes every record
// (`<index> <padding>`, the harness's lineOf) on a confirm channel as fast as the broker takes
// them, waits for the confirms and prints the milliseconds it took.
const PRODUCER = `
import amqp from "amqplib";
const { url, queue, records, bytes, durable } = JSON.parse(process.env.OVERLOAD_PRODUCER);
const lineOf = ${lineOf.toString()};
const connection = await amqp.connect(url);
const channel = await connection.createConfirmChannel();
const started = Date.now();
for (let index = 0; index < records; index++) {
  if (!channel.sendToQueue(queue, Buffer.from(lineOf(index, bytes)), { persistent: durable })) {
    await new Promise((resolve) => channel.once("drain", resolve));
  }
}
await channel.waitForConfirms();
process.stdout.write(String(Date.now() - started));
await connection.close();
`;

async function produce(queue: string): Promise<number> {
  return runProducerProcess(PRODUCER, {
    url: GUEST_URL,
    queue,
    records: bounds.records,
    bytes: RECORD_BYTES,
    durable: false,
  });
}

async function overload(backpressure: boolean): Promise<OverloadMeasurements> {
  const queue = uniqueName("sluice-overload");
  queues.push(queue);
  const channel = await admin.createChannel();
  await channel.assertQueue(queue, { durable: false });
  const ctx = overloadContext(bounds, backpressure);
  ctx.checkpoint(join(root, "checkpoint"));
  ctx.use(rabbitmqSource);
  const input = ctx.source(
    "rabbitmq",
    { url: GUEST_URL, queue: { name: queue, durable: false }, prefetch: PREFETCH },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  const run = await runOverload(
    {
      ctx,
      input,
      costMicrosPerRecord: COST_MICROS_PER_RECORD,
      produce: () => produce(queue),
      until: "all-processed",
    },
    bounds,
  );
  // Every message was acknowledged once: nothing is left in the queue, nothing came back.
  const metrics = (input.connector.connector as RabbitMqSource).metrics;
  expect(metrics).toMatchObject({
    recordsIn: bounds.records,
    acked: bounds.records,
    redelivered: 0,
    connectionLosses: 0,
  });
  // Flow control paused the source, and a pause cancels the consumer.
  expect(metrics.consumerCancels).toBeGreaterThan(0);
  expect((await channel.checkQueue(queue)).messageCount).toBe(0);
  await channel.close();
  return run;
}

describeOverload({ source: "RabbitMQ", record: "message", bounds, overload });
