// A message larger than the broker takes, against a real broker whose packets are limited
// (mosquitto-limits on 1886, max_packet_size 4096; scripts/services/start mosquitto-limits).
// Mosquitto closes the connection of a client that sends one, without answering the publish,
// so a sink that published it would lose the connection, reconnect and publish it again for
// ever. The MQTT sink refuses it by index before publishing anything of the batch (the size it
// learns from the broker's CONNACK): with dead letters the record goes there and the others are
// published once; without, the write fails as an invalid record and the connection stays up.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectAsync, type MqttClient } from "mqtt";
import { StreamingContext } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { MqttSink, mqttSink } from "../../../connectors/mqtt/src/index.js";
import { runFirstBatch } from "../../support/first-batch.js";
import { uniqueName } from "./broker.js";

const LIMITED_URL = "mqtt://127.0.0.1:1886";
const LIMIT = 4096;
const encoder = new TextEncoder();
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A subscriber on the limited broker, or an error naming the command that starts it. */
async function subscriber(filter: string): Promise<{ client: MqttClient; texts: string[] }> {
  let client: MqttClient;
  try {
    client = await connectAsync(LIMITED_URL, {
      protocolVersion: 5,
      clientId: uniqueName("limits-sub"),
      connectTimeout: 5_000,
      reconnectPeriod: 0,
    });
  } catch (error) {
    throw new Error(
      `the packet-limited Mosquitto is not answering on 127.0.0.1:1886 (${String(error)}); start it with: scripts/services/start mosquitto-limits`,
      { cause: error },
    );
  }
  const texts: string[] = [];
  client.on("message", (_topic, payload) => texts.push(payload.toString()));
  await client.subscribeAsync(filter, { qos: 1 });
  cleanups.push(() => client.endAsync());
  return { client, texts };
}

/** Waits until `texts` holds `text` (a marker published last). */
async function arrived(texts: readonly string[], text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!texts.includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" did not arrive`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("an MQTT broker's maximum packet size", () => {
  it("sends a record too large for the broker to the dead letters, naming the limit, and publishes the others once", async () => {
    const topic = `sluice/test/${uniqueName("limits")}`;
    const { texts } = await subscriber(topic);
    const dead = await mkdtemp(join(tmpdir(), "sluice-mqtt-limits-"));
    cleanups.push(() => rm(dead, { recursive: true, force: true }));
    const large = "x".repeat(LIMIT + 10);
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx.use(mqttSink);
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    ctx
      .queueStream([["small-0", large, "small-2", "end"]])
      .sink("mqtt", { url: LIMITED_URL, topic, qos: 1 });
    await runFirstBatch(ctx, clock);
    await arrived(texts, "end");
    expect(texts).toEqual(["small-0", "small-2", "end"]);
    const letters = (await readdir(dead))
      .filter((name) => !name.startsWith("."))
      .map(async (name) => (await readFile(join(dead, name), "utf8")).split("\n"));
    const lines = (await Promise.all(letters)).flat().filter((line) => line !== "");
    expect(lines).toHaveLength(1);
    const letter = JSON.parse(lines[0] as string) as {
      record: string;
      errorCode: string;
      error: string;
      batchPosition: { index: number };
    };
    expect(letter).toMatchObject({
      record: large,
      errorCode: "SLUICE_INVALID_RECORD",
      batchPosition: { index: 1 },
    });
    expect(letter.error).toMatch(/maximum packet size of 4096 bytes/);
  });

  it("fails the write as an invalid record without losing the connection, and publishes the next batch", async () => {
    const topic = `sluice/test/${uniqueName("limits")}`;
    const { texts } = await subscriber(topic);
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(mqttSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("mqtt", { url: LIMITED_URL, topic, qos: 1 }).connector;
    if (!(sink instanceof MqttSink)) throw new Error("expected the MQTT sink");
    await sink.connect(AbortSignal.timeout(20_000));
    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "limits/1000/0/0" };
    const refusal = await sink
      .writeBatch([{ value: encoder.encode("a") }, { value: new Uint8Array(LIMIT) }], context)
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
    expect((refusal as Error).message).toContain("record 1 of batch 1000 (partition 0)");
    // Nothing of the refused batch went out, and the same connection publishes the next one.
    await sink.writeBatch([{ value: encoder.encode("b") }], { ...context, batchTime: 2_000 });
    await arrived(texts, "b");
    expect(texts).toEqual(["b"]);
  });
});
