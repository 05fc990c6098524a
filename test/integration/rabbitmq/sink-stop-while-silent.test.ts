// The RabbitMQ sink against the local broker when the job stops without draining while a write
// waits for publisher confirms on a connection that stays open but carries nothing (a loopback
// proxy the test silences; the shared broker keeps running). With heartbeatSeconds: 0 nothing
// but the stop ends that wait: the write gives up while the connection is still silent, with an
// I/O error, nothing of its batch is in the queue, and the sink publishes the next batch over a
// new connection. A job stopped with ctx.stop() likewise ends while the broker is still silent,
// every batch it completed in the queue and the cut-off one failed, and the sink's connection,
// whose close the silent broker never answers, is destroyed rather than left open.
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { RabbitMqSink, rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { firstBatchWritten } from "../../support/queued-job.js";
import { writeOverNewConnection } from "../../support/write-over-new-connection.js";
import { writeStoppedWhileSilenced } from "../../support/write-stopped-while-silenced.js";
import { drain, HOST, PORT } from "./broker.js";
import { useLockedBroker } from "./locked-broker.js";

const encoder = new TextEncoder();
/** Restores the proxies first, so that nothing waits on them while the rest is cleaned up. */
const restores: (() => void)[] = [];
const broker = useLockedBroker(() => {
  for (const restore of restores.splice(0)) restore();
});

async function silenceableProxy(): Promise<{ proxy: CuttableProxy; restored: () => boolean }> {
  const proxy = await CuttableProxy.start(PORT, HOST);
  let restored = false;
  restores.push(() => {
    restored = true;
    proxy.restore();
  });
  broker.afterTest(() => proxy.close());
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
    const queue = await broker.newQueue("sluice-stop-silent");
    const { proxy, restored } = await silenceableProxy();
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSink);
    broker.afterTest(() => registry.dispose());
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
    expect(await drain(broker.channel(), queue)).toEqual(["c"]);
    expect(sink.metrics).toMatchObject({ recordsOut: 1, batches: 1 });
  }, 60_000);

  it("ctx.stop() resolves while the broker is still silent; the completed batch is in the queue and the cut-off one failed", async () => {
    const queue = await broker.newQueue("sluice-stop-silent");
    const { proxy, restored } = await silenceableProxy();
    const { ctx, clock, outcomes } = await firstBatchWritten(
      "rabbitmq-stop-while-silent",
      rabbitmqSink,
      "rabbitmq",
      sinkConfig(proxy, queue),
      (stop) => broker.afterTest(stop),
    );

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
    expect(await drain(broker.channel(), queue)).toEqual(["1-a", "1-b"]);
    // The connection the sink gave up on is closed from its side too (its close-ok never came),
    // not left open to keep the process alive.
    await proxy.until((counts) => counts.open === 0);
    expect(restored()).toBe(false);
  }, 60_000);
});
