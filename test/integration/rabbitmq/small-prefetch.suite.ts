// A prefetch smaller than what a batch would hold: without checkpointing the acknowledgements
// wait for the batch, so each batch gets at most `prefetch` messages; the job still goes through
// the whole queue, in order, and acknowledges every message.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rabbitmqSink, rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import { adminConnection, depth, drain, GUEST_URL, produce, uniqueName } from "./broker.js";

let admin: ChannelModel;
let channel: ConfirmChannel;

describe("rabbitmq prefetch smaller than a batch", () => {
  beforeAll(async () => {
    admin = await adminConnection();
    channel = await admin.createConfirmChannel();
  });

  afterAll(async () => {
    await admin?.close();
  });

  it("outputs every message in order, at most prefetch per batch, and acknowledges them all", async () => {
    const input = uniqueName("sluice-prefetch-in");
    const output = uniqueName("sluice-prefetch-out");
    await channel.assertQueue(input, { durable: false });
    await channel.assertQueue(output, { durable: false });
    const values = Array.from({ length: 40 }, (_, index) => `m${index}`);
    await produce(channel, input, values);
    const batchSizes: number[] = [];
    const ctx = new StreamingContext({ batchInterval: 100, defaultParallelism: 1 });
    ctx.use(rabbitmqSource, rabbitmqSink);
    const stream = ctx.source("rabbitmq", {
      url: GUEST_URL,
      queue: { name: input, durable: false },
      prefetch: 3,
    });
    stream.foreachBatch((batch) => {
      const size = batch.partitions.reduce((sum, records) => sum + records.length, 0);
      if (size > 0) batchSizes.push(size);
    });
    stream.sink("rabbitmq", { url: GUEST_URL, routingKey: output });
    await ctx.start();
    const outputs: string[] = [];
    try {
      const deadline = AbortSignal.timeout(60_000);
      while (outputs.length < values.length) {
        if (deadline.aborted) throw new Error(`only ${outputs.length} outputs`);
        outputs.push(...(await drain(channel, output)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await ctx.stop({ graceful: true });
      await closeConnectorsOf(ctx);
    }
    try {
      expect(ctx.scope.firstError()).toBeUndefined();
      expect(outputs).toEqual(values);
      expect(Math.max(...batchSizes)).toBeLessThanOrEqual(3);
      expect(await depth(channel, input)).toBe(0);
    } finally {
      await channel.deleteQueue(input);
      await channel.deleteQueue(output);
    }
  }, 90_000);
});
