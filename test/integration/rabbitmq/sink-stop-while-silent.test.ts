// The RabbitMQ sink against the local broker when the job stops without draining while a write
// waits for publisher confirms on a connection that stays open but carries nothing (a loopback
// proxy the test silences; the shared broker keeps running). With heartbeatSeconds: 0 nothing
// but the stop ends that wait: the write gives up while the connection is still silent, with an
// I/O error, nothing of its batch is in the queue, and the sink publishes the next batch over a
// new connection. A job stopped with ctx.stop() likewise ends while the broker is still silent,
// every batch it completed in the queue and the cut-off one failed.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { StreamingContext } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitMqSink, rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { lockServer } from "../../support/service-lock.js";
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

    proxy.silence();
    const stop = new AbortController();
    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "stop-silent/1000/0/0" };
    const outcome = sink
      .writeBatch(
        ["a", "b"].map((value) => ({ value: encoder.encode(value) })),
        { ...context, retriesEnd: stop.signal },
      )
      .then(
        () => "written",
        (error: unknown) => error,
      );
    // The publishes reached the proxy, which holds them: the write waits for its confirms.
    await proxy.until((counts) => counts.swallowed >= 1);
    stop.abort(new Error("the StreamingContext is stopping without draining"));
    const failure = await outcome;
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
    await expect(sink.writeBatch([{ value: encoder.encode("c") }], context)).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
    await sink.connect(AbortSignal.timeout(20_000));
    await sink.writeBatch([{ value: encoder.encode("c") }], { ...context, batchTime: 2_000 });
    expect(await drain(channel, queue)).toEqual(["c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 1, batches: 1 });
  }, 60_000);

  it("ctx.stop() resolves while the broker is still silent; the completed batch is in the queue and the cut-off one failed", async () => {
    const queue = await newQueue();
    const { proxy, restored } = await silenceableProxy();
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock,
      appName: "rabbitmq-stop-while-silent",
      defaultParallelism: 1,
    });
    cleanups.push(() => ctx.stop());
    ctx.use(rabbitmqSink);
    const readings = ctx.queueStream([
      ["1-a", "1-b"],
      ["2-a", "2-b"],
    ]);
    readings.sink("rabbitmq", sinkConfig(proxy, queue), { id: "readings", backoff });
    const outcomes: string[] = [];
    ctx.addListener({
      onBatchCompleted: ({ batchTime, numRecords, outputOperationInfos }) => {
        if (numRecords === 0) return;
        const failed = [...outputOperationInfos.values()].some(
          (info) => info.failureReason !== undefined,
        );
        outcomes.push(`${batchTime} ${failed ? "failed" : "written"}`);
      },
    });

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
  }, 60_000);
});
