// The IoT ingestion path as production runs it, against the real servers: sensor readings
// (JSON) published to Mosquitto at QoS 1, a checkpointing job parsing them, each sensor's count
// and sum per tumbling window, upserted into Cassandra, malformed readings to the dead letters.
// Along the way: readings published before the job starts (kept in its persistent session),
// payloads that are not readings (not JSON, wrong types, missing fields, empty, huge), the
// broker restarted mid-run with readings published while the job reconnects, an idle stretch
// (empty windows write nothing), a burst, then the job stopped while readings come and resumed
// from its checkpoint. Every reading is counted in exactly one window, every malformed one is a
// dead letter naming its field, and nothing else is.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import type { MqttClient } from "mqtt";
import {
  type Batch,
  batchRecords,
  closeConnectorsOf,
  type SourceRecord,
  StreamingContext,
} from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import {
  CONTACT_POINTS,
  uniqueName as cassandraName,
  connectClient,
  createKeyspace,
} from "../cassandra/cassandra-helpers.js";
import { BROKER_URL, client, publish, services, uniqueName } from "./broker.js";

const decoder = new TextDecoder();
const SENSORS = ["s1", "s2", "s3", "s4"];
const BATCH_MS = 250;
const WINDOW_MS = 1_000;
// Only stops a wait that hangs: a loaded machine can take seconds per batch.
const DEADLINE_MS = 90_000;

interface Reading {
  readonly sensor: string;
  readonly value: number;
}

/** Parses a reading, or throws naming what is wrong and what a reading looks like. */
function parseReading(record: SourceRecord): Reading {
  const text = decoder.decode(record.value);
  const shape = 'publish {"sensor": "<id>", "value": <number>}';
  if (text.trim() === "") throw new Error(`empty payload: ${shape}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${shape}`);
  }
  const { sensor, value } = (parsed ?? {}) as { sensor?: unknown; value?: unknown };
  if (typeof sensor !== "string" || sensor === "") {
    throw new Error(`field "sensor" is missing or not a string: ${shape}`);
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`field "value" is missing or not a number: ${shape}`);
  }
  return { sensor, value };
}

/** `count` readings cycling through the sensors, values from `start`. */
function readings(count: number, start: number): Reading[] {
  return Array.from({ length: count }, (_, index) => ({
    sensor: SENSORS[index % SENSORS.length] as string,
    value: start + index,
  }));
}

function totalsOf(all: readonly Reading[]): Map<string, { count: number; sum: number }> {
  const totals = new Map<string, { count: number; sum: number }>();
  for (const { sensor, value } of all) {
    const total = totals.get(sensor) ?? { count: 0, sum: 0 };
    totals.set(sensor, { count: total.count + 1, sum: total.sum + value });
  }
  return totals;
}

describe("mqtt to cassandra, as the IoT ingestion runs", () => {
  let cassandra: Client;
  let unlockCassandra: (() => Promise<void>) | undefined;
  let unlockBroker: (() => Promise<void>) | undefined;
  let folder: string;
  const keyspace = cassandraName("iot_ingest");
  const publishers: MqttClient[] = [];

  beforeAll(async () => {
    unlockBroker = await lockServer("mosquitto");
    unlockCassandra = await lockServer("cassandra");
    cassandra = await connectClient();
    await createKeyspace(cassandra, keyspace);
    await cassandra.execute(
      `CREATE TABLE ${keyspace}.sensor_windows (sensor text, window_end timestamp, readings int, total double, PRIMARY KEY ((sensor), window_end))`,
    );
    folder = await mkdtemp(join(tmpdir(), "sluice-iot-ingest-"));
  }, 360_000);

  afterAll(async () => {
    // Whatever happened, the broker runs again for whoever comes next.
    await services("start");
    for (const publisher of publishers) await publisher.endAsync(true).catch(() => undefined);
    await cassandra?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await cassandra?.shutdown();
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
    await unlockCassandra?.();
    await unlockBroker?.();
  });

  async function newPublisher(): Promise<MqttClient> {
    const publisher = await client();
    publishers.push(publisher);
    return publisher;
  }

  /** Every window row in the table: sensor → its windows' counts and sums. */
  async function windowRows(): Promise<{ sensor: string; readings: number; total: number }[]> {
    const result = await cassandra.execute(
      `SELECT sensor, readings, total FROM ${keyspace}.sensor_windows`,
    );
    return result.rows.map((row) => ({
      sensor: String(row.get("sensor")),
      readings: Number(row.get("readings")),
      total: Number(row.get("total")),
    }));
  }

  async function countedReadings(): Promise<number> {
    return (await windowRows()).reduce((sum, row) => sum + row.readings, 0);
  }

  async function deadLetters(): Promise<{ record: string; error: string; topic: string }[]> {
    const directory = join(folder, "dead");
    const letters: { record: string; error: string; topic: string }[] = [];
    for (const name of (await readdir(directory).catch(() => [] as string[])).sort()) {
      if (name.startsWith(".")) continue;
      for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
        if (line === "") continue;
        const letter = JSON.parse(line) as {
          record: string;
          error: string;
          source?: { partition?: string };
        };
        letters.push({
          record: letter.record,
          error: letter.error,
          topic: letter.source?.partition ?? "",
        });
      }
    }
    return letters;
  }

  it("counts every reading once across malformed payloads, a broker restart, idle windows, a burst and a job restart", async () => {
    const topic = `sensors/${uniqueName("plant")}/readings`;
    const clientId = uniqueName("sluice-iot-ingest");
    const session = { clientId, clean: false, properties: { sessionExpiryInterval: 600 } };
    // The job's session exists before it runs (as after an earlier run).
    const earlier = await client(session);
    await earlier.subscribeAsync(topic, { qos: 1 });
    await earlier.endAsync();

    const malformed = [
      "{not json",
      JSON.stringify({ sensor: "s1", value: "hot" }),
      JSON.stringify({ value: 3 }),
      JSON.stringify({ sensor: "s2" }),
      "",
      `{"sensor": "s3", "value": 1, "junk": "${"x".repeat(1_000_000)}"`,
    ];
    const published: Reading[] = [];
    let publisher = await newPublisher();
    const first = readings(120, 0);
    await publish(
      publisher,
      topic,
      [...first.slice(0, 60), ...malformed.slice(0, 3), ...first.slice(60)].map((reading) =>
        typeof reading === "string" ? reading : JSON.stringify(reading),
      ),
      1,
    );
    published.push(...first);

    let completed = 0;
    const checkpoint = join(folder, "checkpoint");
    const startJob = async (): Promise<StreamingContext> => {
      const job = await StreamingContext.getOrCreate(checkpoint, () => {
        const created = new StreamingContext({
          batchInterval: BATCH_MS,
          appName: "iot-ingest-test",
        });
        created.use(mqttSource, cassandraSink);
        created.deadLetters("file", { directory: join(folder, "dead"), format: "jsonl" });
        created
          .source("mqtt", {
            url: BROKER_URL,
            clientId,
            topics: [topic],
            qos: 1,
            sessionExpirySeconds: 600,
          })
          .map(parseReading)
          .map((reading): [string, { count: number; sum: number }] => [
            reading.sensor,
            { count: 1, sum: reading.value },
          ])
          .reduceByKeyAndWindow((a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }), {
            window: WINDOW_MS,
            slide: WINDOW_MS,
          })
          .transform((batch: Batch<[string, { count: number; sum: number }]>, time: number) =>
            batchRecords(batch).map(([sensor, stats]) =>
              JSON.stringify({ sensor, window_end: time, readings: stats.count, total: stats.sum }),
            ),
          )
          .sink("cassandra", { contactPoints: CONTACT_POINTS, keyspace, table: "sensor_windows" });
        return created;
      });
      job.addListener({
        onBatchCompleted: () => {
          completed++;
        },
      });
      await job.start();
      return job;
    };
    const counted = async (wanted: number): Promise<void> => {
      await expect.poll(countedReadings, { timeout: DEADLINE_MS, interval: 200 }).toBe(wanted);
    };
    let ctx = await startJob();
    try {
      await counted(published.length);

      // The broker restarts mid-run; readings are published while the job reconnects.
      await services("stop");
      await services("start");
      publisher = await newPublisher();
      const second = readings(80, 1_000);
      await publish(
        publisher,
        topic,
        [...second.slice(0, 40), ...malformed.slice(3), ...second.slice(40)].map((reading) =>
          typeof reading === "string" ? reading : JSON.stringify(reading),
        ),
        1,
      );
      published.push(...second);
      await counted(published.length);

      // Two whole windows pass without a reading, then a burst.
      const idleFrom = completed;
      await expect
        .poll(() => completed, { timeout: DEADLINE_MS, interval: 50 })
        .toBeGreaterThanOrEqual(idleFrom + (2 * WINDOW_MS) / BATCH_MS);
      const rowsBeforeBurst = (await windowRows()).length;
      const burst = readings(400, 5_000);
      await publish(
        publisher,
        topic,
        burst.map((reading) => JSON.stringify(reading)),
        1,
      );
      published.push(...burst);
      await counted(published.length);
      expect(ctx.scope.firstError()).toBeUndefined();
      expect((await windowRows()).length).toBeGreaterThan(rowsBeforeBurst);

      // The job stops without waiting for its batches; readings come while it is down, and
      // the next run resumes from the checkpoint: its first batches take them in.
      await ctx.stop();
      await closeConnectorsOf(ctx);
      const whileDown = readings(100, 20_000);
      await publish(
        publisher,
        topic,
        whileDown.map((reading) => JSON.stringify(reading)),
        1,
      );
      published.push(...whileDown);
      ctx = await startJob();
      await counted(published.length);
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      await ctx.stop({ graceful: true });
      await closeConnectorsOf(ctx);
    }

    // Each sensor's readings and sum over its windows are those published: none lost, none twice.
    const bySensor = new Map<string, { count: number; sum: number }>();
    const rows = await windowRows();
    for (const row of rows) {
      const total = bySensor.get(row.sensor) ?? { count: 0, sum: 0 };
      bySensor.set(row.sensor, { count: total.count + row.readings, sum: total.sum + row.total });
    }
    expect(bySensor).toEqual(totalsOf(published));
    // A window without readings writes no row.
    expect(rows.every((row) => row.readings > 0)).toBe(true);

    const letters = await deadLetters();
    expect(letters.map((letter) => letter.record)).toEqual(malformed);
    expect(letters.every((letter) => letter.topic === topic)).toBe(true);
    expect(letters.map((letter) => letter.error)).toEqual([
      expect.stringContaining("not JSON"),
      expect.stringContaining('field "value"'),
      expect.stringContaining('field "sensor"'),
      expect.stringContaining('field "value"'),
      expect.stringContaining("empty payload"),
      expect.stringContaining("not JSON"),
    ]);

    const cleaner = await client({
      clientId,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    });
    await cleaner.endAsync();
  }, 300_000);
});
