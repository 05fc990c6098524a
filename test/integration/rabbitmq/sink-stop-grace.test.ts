// The stop's grace against the local broker: a job stopped without draining while its RabbitMQ
// sink waits for publisher confirms that are on their way (a loopback proxy holds the broker's
// answers, then lets them through once the stop has begun) finishes the batch in progress
// within `interruptAfter`, every record in the queue once, instead of failing it.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { queuedJob } from "../../support/queued-job.js";
import { lockServer } from "../../support/service-lock.js";
import { until } from "../../support/until.js";
import { adminConnection, drain, HOST, PORT, uniqueName } from "./broker.js";

const backoff = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 };
const cleanups: (() => Promise<unknown>)[] = [];
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
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a stop without draining while the RabbitMQ sink's confirms are on their way", () => {
  it("finishes the batch in progress when they arrive within interruptAfter", async () => {
    const queue = uniqueName("sluice-stop-grace");
    await channel.assertQueue(queue, { durable: false });
    cleanups.push(() => channel.deleteQueue(queue));
    const proxy = await CuttableProxy.start(PORT, HOST);
    cleanups.push(() => proxy.close());
    const { ctx, clock, input, outcomes } = queuedJob(
      "rabbitmq-stop-grace",
      [
        ["1-a", "1-b"],
        ["2-a", "2-b"],
      ],
      rabbitmqSink,
    );
    cleanups.push(() => ctx.stop());
    input.sink(
      "rabbitmq",
      {
        url: `amqp://guest:guest@${proxy.address}`,
        exchange: "",
        routingKey: queue,
        heartbeatSeconds: 0,
      },
      { id: "readings", backoff },
    );
    await ctx.start();
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    expect(outcomes).toEqual(["1000 written"]);

    proxy.holdAnswers();
    clock.advance(1000);
    // The second batch's publishes reached the broker; its confirms wait in the proxy.
    await proxy.until((counts) => counts.held >= 1);
    const stopped = ctx.stop({ interruptAfter: "60s" });
    // The stop has begun to finish the batch in progress (or, without a grace, already ended it).
    await until(
      () =>
        ctx.unfinishedWork()[0] === "stop: finishing the batch in progress" || outcomes.length > 1,
      30_000,
      "the stop reaching the batch in progress",
    );
    // Still waiting for its confirms, within the grace.
    expect(outcomes).toEqual(["1000 written"]);
    proxy.releaseAnswers();
    await stopped;
    expect(ctx.state).toBe("STOPPED");
    expect(outcomes).toEqual(["1000 written", "2000 written"]);
    expect(await drain(channel, queue)).toEqual(["1-a", "1-b", "2-a", "2-b"]);
  }, 120_000);
});
