// The MQTT source under overload, against the broker of `scripts/services/start mosquitto` (the
// test fails, naming the command, when it is not running). Messages are published at QoS 1 into
// the source's persistent session. The job checkpoints, so each read goes to the write-ahead log
// and is acknowledged (PUBACK) right after: Receive Maximum then bounds only what waits unread in
// the source, and nothing but flow control keeps the source from taking the whole session in.
// Mosquitto runs with max_queued_messages 0 (unlimited), so what the source does not take yet
// waits in the broker's session and nothing may be dropped.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SourceInputDStream } from "sluice/advanced";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { mqttSource } from "../../connectors/mqtt/src/index.js";
import type { MqttSource } from "../../connectors/mqtt/src/mqtt-source.js";
import { BROKER_URL, client, uniqueName } from "../integration/mqtt/broker.js";
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

// BROKER_OVERLOAD's scale. The producer publishes at QoS 1 as fast as the broker confirms, over
// 20 000 a second here (more than 10 times what the job processes; the harness checks the
// factor reached against the job's measured rate), while the job runs. The
// source holds at most the queue and the Receive Maximum window (1 MB of values), which it
// enforces itself when the broker overruns it.
const {
  bounds,
  recordBytes: RECORD_BYTES,
  costMicrosPerRecord: COST_MICROS_PER_RECORD,
} = BROKER_OVERLOAD;
const RECEIVE_MAXIMUM = 500;

let unlock: (() => Promise<void>) | undefined;
let root: string;
const clientIds: string[] = [];

beforeAll(async () => {
  // The integration suite stops and restarts Mosquitto under this lock; never mid-run.
  unlock = await lockServer("mosquitto");
  // Fails loudly, naming the start command, when the broker is not running.
  await (await client()).endAsync();
}, 360_000);

afterAll(async () => {
  // Drop the sessions the runs left in the broker (a clean start with no expiry).
  for (const clientId of clientIds) {
    await (await client({ clientId, clean: true, properties: { sessionExpiryInterval: 0 } }))
      .endAsync()
      .catch(() => undefined);
  }
  await unlock?.();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-mqtt-overload-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

// The producer runs in a process of its own, as producers do: its buffers stay out of the
// job's memory and it does not share the job's event loop. It publishes every record
// (`<index> <padding>`, the harness's lineOf) at QoS 1, a window of them at a time, each
// confirmed by the broker (PUBACK), and prints the milliseconds it took.
const PRODUCER = `
import mqtt from "mqtt";
const { url, topic, records, bytes } = JSON.parse(process.env.OVERLOAD_PRODUCER);
const lineOf = ${lineOf.toString()};
const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
let next = 0;
const started = Date.now();
const publishing = async () => {
  while (next < records) await client.publishAsync(topic, lineOf(next++, bytes), { qos: 1 });
};
await Promise.all(Array.from({ length: 100 }, publishing));
process.stdout.write(String(Date.now() - started));
await client.endAsync();
`;

async function produce(topic: string): Promise<number> {
  return runProducerProcess(PRODUCER, {
    url: BROKER_URL,
    topic,
    records: bounds.records,
    bytes: RECORD_BYTES,
  });
}

async function overload(backpressure: boolean): Promise<OverloadMeasurements> {
  const topic = uniqueName("sluice/overload");
  const clientId = uniqueName("sluice-overload");
  clientIds.push(clientId);
  // The source's session exists, subscribed, before anything is published: the broker keeps
  // every message for it from the first one, whether or not the job is connected yet.
  const session = await client({
    clientId,
    clean: true,
    properties: { sessionExpiryInterval: 600 },
  });
  await session.subscribeAsync(topic, { qos: 1 });
  await session.endAsync();

  const ctx = overloadContext(bounds, backpressure);
  ctx.checkpoint(join(root, "checkpoint"));
  ctx.use(mqttSource);
  const input = ctx.source(
    "mqtt",
    {
      url: BROKER_URL,
      clientId,
      topics: [topic],
      qos: 1,
      sessionExpirySeconds: 600,
      receiveMaximum: RECEIVE_MAXIMUM,
    },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  const run = await runOverload(
    {
      ctx,
      input,
      costMicrosPerRecord: COST_MICROS_PER_RECORD,
      produce: () => produce(topic),
      until: "all-processed",
    },
    bounds,
  );
  const metrics = (input.connector.connector as MqttSource).metrics;
  // Every message was acknowledged to the broker once, none came twice.
  expect(metrics).toMatchObject({
    recordsIn: bounds.records,
    acked: bounds.records,
    duplicatesDropped: 0,
    connectionLosses: 0,
  });
  return run;
}

describeOverload({ source: "MQTT", record: "QoS 1 message", bounds, overload });
