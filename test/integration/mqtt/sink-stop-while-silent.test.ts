// The MQTT sink against the local Mosquitto when the job stops without draining while a write
// waits for the broker's acknowledgements on a connection that stays open but carries nothing
// (a loopback proxy the test silences; the shared broker keeps running). With keepaliveSeconds:
// 0 nothing but the stop ends that wait: the write gives up while the connection is still
// silent, with an I/O error, nothing of its batch is acknowledged, and the sink publishes the
// next batch over a new connection. A job stopped with ctx.stop() likewise ends while the
// broker is still silent, every batch it completed published and the cut-off one failed.
import { connectAsync, type MqttClient } from "mqtt";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MqttSink, mqttSink } from "../../../connectors/mqtt/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { firstBatchWritten } from "../../support/queued-job.js";
import { lockServer } from "../../support/service-lock.js";
import { writeOverNewConnection } from "../../support/write-over-new-connection.js";
import { writeStoppedWhileSilenced } from "../../support/write-stopped-while-silenced.js";
import { collect, HOST, PORT, uniqueName } from "./broker.js";

const encoder = new TextEncoder();
const cleanups: (() => Promise<unknown>)[] = [];
/** Restores the proxies first, so that nothing waits on them while the rest is cleaned up. */
const restores: (() => void)[] = [];
let unlock: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // The server-loss suite stops this broker; it waits while this file runs.
  unlock = await lockServer("mosquitto");
  // Fails loudly, naming the start command, when the broker is not running.
  const probe: MqttClient = await connectAsync(`mqtt://${HOST}:${PORT}`, {
    protocolVersion: 5,
    connectTimeout: 5_000,
    reconnectPeriod: 0,
  }).catch((error: unknown) => {
    throw new Error(
      `Mosquitto is not answering on ${HOST}:${PORT} (${String(error)}); start it with: scripts/services/start mosquitto`,
      { cause: error },
    );
  });
  await probe.endAsync();
}, 320_000);

afterAll(async () => {
  await unlock?.();
});

afterEach(async () => {
  for (const restore of restores.splice(0)) restore();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function silenceableProxy(): Promise<{ proxy: CuttableProxy; restored: () => boolean }> {
  const proxy = await CuttableProxy.start(PORT, HOST);
  let restored = false;
  restores.push(() => {
    restored = true;
    proxy.restore();
  });
  cleanups.push(() => proxy.close());
  return { proxy, restored: () => restored };
}

const sinkConfig = (proxy: CuttableProxy, topic: string) => ({
  url: `mqtt://${proxy.address}`,
  topic,
  qos: 1,
  // Only the keep-alive would notice a silent connection: off, only the stop ends the wait.
  keepaliveSeconds: 0,
});

describe("the MQTT sink when the job stops without draining while the broker is silent", () => {
  it("ends a write waiting for acknowledgements while the connection is still silent, and publishes the next batch over a new one", async () => {
    const topic = `sluice/test/${uniqueName("stop-silent")}`;
    const subscriber = await collect(topic);
    cleanups.push(() => subscriber.close());
    const { proxy, restored } = await silenceableProxy();
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(mqttSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("mqtt", sinkConfig(proxy, topic)).connector;
    if (!(sink instanceof MqttSink)) throw new Error("expected the MQTT sink");
    await sink.connect(AbortSignal.timeout(20_000));

    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "stop-silent/1000/0/0" };
    // The publishes reach the proxy, which holds them: the write waits for its PUBACKs.
    const failure = await writeStoppedWhileSilenced(
      sink,
      proxy,
      ["a", "b"].map((value) => ({ value: encoder.encode(value) })),
      context,
    );
    // Reached only if the write ended while the connection is still silent.
    expect(restored()).toBe(false);
    expect(failure).toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringContaining("stopping without draining"),
    });
    expect(sink.metrics).toMatchObject({ recordsOut: 0, batches: 0 });

    // Restored, the sink connects again and publishes the next batch; nothing of the batch cut
    // off reached the broker (the proxy held it), so the next batch is all that arrives.
    proxy.restore();
    await writeOverNewConnection(
      sink,
      [{ value: encoder.encode("c") }],
      { ...context, batchTime: 2_000 },
      AbortSignal.timeout(20_000),
    );
    await subscriber.until(topic, "c");
    expect(subscriber.messages.map((message) => message.text)).toEqual(["c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 1, batches: 1 });
  }, 60_000);

  it("ctx.stop() resolves while the broker is still silent; the completed batch is published and the cut-off one failed", async () => {
    const topic = `sluice/test/${uniqueName("stop-silent-job")}`;
    const subscriber = await collect(topic);
    cleanups.push(() => subscriber.close());
    const { proxy, restored } = await silenceableProxy();
    const { ctx, clock, outcomes } = await firstBatchWritten(
      "mqtt-stop-while-silent",
      mqttSink,
      "mqtt",
      sinkConfig(proxy, topic),
      (stop) => cleanups.push(stop),
    );
    await subscriber.until(topic, "1-b");

    proxy.silence();
    clock.advance(1000);
    // The second batch's publishes reached the proxy, which holds them.
    await proxy.until((counts) => counts.swallowed >= 1);
    expect(outcomes).toEqual(["1000 written"]);
    await ctx.stop();
    // Reached only if the stop ended while the connection is still silent.
    expect(restored()).toBe(false);
    expect(ctx.state).toBe("STOPPED");
    expect(outcomes).toEqual(["1000 written", "2000 failed"]);
    expect(subscriber.messages.map((message) => message.text)).toEqual(["1-a", "1-b"]);
    // The connection the sink gave up on is closed from its side too, not left open.
    await proxy.until((counts) => counts.open === 0);
    expect(restored()).toBe(false);
  }, 60_000);
});
