// The RabbitMQ sink against the local broker when the job stops without draining while a write
// waits for publisher confirms on a connection that stays open but carries nothing (a loopback
// proxy the test silences; the shared broker keeps running). With heartbeatSeconds: 0 nothing
// but the stop ends that wait: the write gives up while the connection is still silent, with an
// I/O error, nothing of its batch is in the queue, and the sink publishes the next batch over a
// new connection. A job stopped with ctx.stop() likewise ends while the broker is still silent,
// every batch it completed in the queue and the cut-off one failed, and the sink's connection,
// whose close the silent broker never answers, is destroyed rather than left open.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitMqSink, rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { queuedJob } from "../../support/queued-job.js";
import { lockServer } from "../../support/service-lock.js";
import { writeOverNewConnection } from "../../support/write-over-new-connection.js";
import { writeStoppedWhileSilenced } from "../../support/write-stopped-while-silenced.js";
import { adminConnection, drain, HOST, PORT, uniqueName } from "./broker.js";

const encoder = new TextEncoder();
const backoff = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 };
const cleanups: (() => Promise<unknown>)[] = [];
/** Restores the proxies first, so that nothing waits on them while the rest is cleaned up. */
const restores: (() => void)[] = [];
let unlock: (() => Promise<void>) | undefined;
let admin: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  // The server-loss suite stops this broker; it waits while this file runs.
  unlock = await lockServer("rabbitmq");
  // Fails loudly, naming the start command, when the broker is not running.
  admin = await adminConnection();
  channel = await admin.createConfirmChannel();
}, 320_000);

afterAll(async () => {
  await admin?.close();
  await unlock?.();
});

afterEach(async () => {
  for (const restore of restores.splice(0)) restore();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function newQueue(): Promise<string> {
  const queue = uniqueName("sluice-stop-silent");
  await channel.assertQueue(queue, { durable: false });
  cleanups.push(() => channel.deleteQueue(queue));
  return queue;
}

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

const sinkConfig = (proxy: CuttableProxy, queue: string) => ({
  url: `amqp://guest:guest@${proxy.address}`,
  exchange: "",
  routingKey: queue,
  // Only the heartbeat would notice a silent connection: off, only the stop ends the wait.
  heartbeatSeconds: 0,
});

describe("the RabbitMQ sink when the job stops without draining while the broker is silent", () => {
  it("ends a write waiting for confirms while the connection is still silent, and publishes the next batch over a new one", async () => {
    const queue = await newQueue();
    const { proxy, restored } = await silenceableProxy();
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("rabbitmq", sinkConfig(proxy, queue)).connector;
    if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
    await sink.connect(AbortSignal.timeout(20_000));

    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "stop-silent/1000/0/0" };
    // The publishes reach the proxy, which holds them: the write waits for its confirms.
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
    // off reached the broker (the proxy held it), so the next batch is all the queue holds.
    proxy.restore();
    await writeOverNewConnection(
      sink,
      [{ value: encoder.encode("c") }],
      { ...context, batchTime: 2_000 },
      AbortSignal.timeout(20_000),
    );
    expect(await drain(channel, queue)).toEqual(["c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 1, batches: 1 });
  }, 60_000);

  it("ctx.stop() resolves while the broker is still silent; the completed batch is in the queue and the cut-off one failed", async () => {
    const queue = await newQueue();
    const { proxy, restored } = await silenceableProxy();
    const { ctx, clock, input, outcomes } = queuedJob(
      "rabbitmq-stop-while-silent",
      [
        ["1-a", "1-b"],
        ["2-a", "2-b"],
      ],
      rabbitmqSink,
    );
    cleanups.push(() => ctx.stop());
    input.sink("rabbitmq", sinkConfig(proxy, queue), { id: "readings", backoff });

    await ctx.start();
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    expect(outcomes).toEqual(["1000 written"]);

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
    expect(await drain(channel, queue)).toEqual(["1-a", "1-b"]);
    // The connection the sink gave up on is closed from its side too (its close-ok never came),
    // not left open to keep the process alive.
    await proxy.until((counts) => counts.open === 0);
    expect(restored()).toBe(false);
  }, 60_000);
});
