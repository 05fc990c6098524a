// The production configuration against the real servers of scripts/services: readings published
// to Mosquitto, windows upserted into Cassandra. Fails (never skips) when a server is missing.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Client } from "cassandra-driver";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockService } from "../../../test/integration/kafka/services.js";
import { temporaryFolder } from "../../../test/samples/files.js";
import { SluiceProcess, samplePath } from "../../../test/samples/sluice-process.js";
import { lockServer } from "../../../test/support/service-lock.js";
import {
  bySensor,
  expectRowsMatchReadings,
  type OutputRow,
  type TruthReading,
} from "./ground-truth.js";

const MQTT_URL = "mqtt://127.0.0.1:1883";
const CASSANDRA = "127.0.0.1:9042";
const KEYSPACE = "sluice_samples";
const id = `iot_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
const TABLE = `windows_${id}`;

let cassandra: Client;
let unlockCassandra: (() => Promise<void>) | undefined;
let unlockMosquitto: (() => Promise<void>) | undefined;

/** Connects an MQTT 5 client, or fails saying which server to start. */
async function mqttClient(options: { clientId: string; clean: boolean }): Promise<MqttClient> {
  try {
    return await connectAsync(
      MQTT_URL,
      {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        properties: { sessionExpiryInterval: 600 },
        ...options,
      },
      false,
    );
  } catch (error) {
    throw new Error(
      `Mosquitto is not answering at ${MQTT_URL} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start mosquitto`,
      { cause: error },
    );
  }
}

beforeAll(async () => {
  // Some integration suites restart these servers; they and this test take turns (locks are
  // always taken in name order, so no two processes wait for each other).
  unlockCassandra = await lockService("cassandra");
  unlockMosquitto = await lockServer("mosquitto");
  cassandra = new Client({ contactPoints: [CASSANDRA], localDataCenter: "datacenter1" });
  try {
    await cassandra.connect();
  } catch (error) {
    throw new Error(
      `Cassandra is not answering at ${CASSANDRA} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start cassandra`,
      { cause: error },
    );
  }
  await (await mqttClient({ clientId: `${id}-probe`, clean: true })).endAsync();
}, 300_000);

afterAll(async () => {
  await cassandra?.execute(`DROP TABLE IF EXISTS ${KEYSPACE}.${TABLE}`).catch(() => undefined);
  await cassandra?.shutdown();
  await unlockMosquitto?.();
  await unlockCassandra?.();
});

describe("samples/iot-ingest with production.yaml (Mosquitto → Cassandra)", () => {
  it("upserts each sensor's window of the readings published to MQTT into Cassandra", async () => {
    // Forty seconds of the bundled readings, with the roof's missing value in them.
    const text = await readFile(samplePath("iot-ingest", "data", "readings-0804.jsonl"), "utf8");
    const lines = text.split("\n").slice(0, 320);
    const parsed = lines.map((line) => JSON.parse(line) as TruthReading);
    const valid = parsed.filter((reading) => typeof reading.temperature === "number");
    expect(valid.length).toBe(319);
    const lastTime = new Date(Math.max(...parsed.map((reading) => reading.ts)))
      .toISOString()
      .slice(11, 19);

    // The broker keeps the job's session (same client id, no clean start): readings published
    // before the job connects are delivered to it.
    const prefix = `sluice-test/${id}/sensors`;
    const session = await mqttClient({ clientId: id, clean: false });
    await session.subscribeAsync(`${prefix}/+/readings`, { qos: 1 });
    await session.endAsync();

    const checkpoint = await temporaryFolder("iot-checkpoint");
    const sluice = new SluiceProcess([
      "run",
      samplePath("iot-ingest", "job.ts"),
      "--config",
      samplePath("iot-ingest", "production.yaml"),
      "--batch",
      "200ms",
      "--checkpoint",
      checkpoint.path,
      "--set",
      "job.window=2s",
      "--set",
      "job.slide=400ms",
      "--set",
      `job.source.clientId=${id}`,
      "--set",
      `job.source.topics=["${prefix}/+/readings"]`,
      "--set",
      `job.sink.keyspace=${KEYSPACE}`,
      "--set",
      `job.sink.table=${TABLE}`,
    ]);
    try {
      const publisher = await mqttClient({ clientId: `${id}-publisher`, clean: true });
      for (const [index, line] of lines.entries()) {
        const sensor = parsed[index]?.sensor ?? "";
        await publisher.publishAsync(`${prefix}/${sensor}/readings`, line, { qos: 1 });
      }
      await publisher.endAsync();

      // Windows are printed after they were upserted; the one holding the last reading ends it.
      await sluice.waitForStdout(
        (stdout) => stdout.includes(`–${lastTime}  `),
        `a window holding the last reading (${lastTime})`,
        45_000,
      );
      const exit = await sluice.stop();
      expect(exit.code, sluice.describe()).toBe(0);
      expect(exit.stderr).toMatch(
        /^iot-ingest: stopped after \d+ batches, 320 records in, \d+ out$/m,
      );
      expect(exit.stderr).toMatch(
        /^rejected a reading \(\S+\/roof\/readings at offset \d+\): temperature of roof must be a number, got null$/m,
      );
    } finally {
      sluice.kill();
      await checkpoint.remove();
    }

    const result = await cassandra.execute(`SELECT * FROM ${KEYSPACE}.${TABLE}`);
    const rows: OutputRow[] = result.rows.map((row) => ({
      sensor: row.get("sensor") as string,
      window_end: (row.get("window_end") as Date).getTime(),
      first_reading: (row.get("first_reading") as Date).getTime(),
      last_reading: (row.get("last_reading") as Date).getTime(),
      readings: row.get("readings") as number,
      avg: row.get("avg") as number,
      min: row.get("min") as number,
      max: row.get("max") as number,
    }));
    expect(expectRowsMatchReadings(rows, bySensor(valid))).toBeGreaterThan(0);
  });
});
