// A poison message: the job's function throws on it. With a dead-letter sink it goes there and
// the rest is output and acknowledged; without, the batch fails, the job says so, and nothing is
// lost: what was not output is back in the queue.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { closeConnectorsOf, type SourceRecord, StreamingContext } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  RabbitMqSource,
  rabbitmqSink,
  rabbitmqSource,
} from "../../../connectors/rabbitmq/src/index.js";
import { adminConnection, depth, drain, GUEST_URL, produce, text, uniqueName } from "./broker.js";

const cleanups: (() => Promise<unknown>)[] = [];
let admin: ChannelModel;
let channel: ConfirmChannel;

function parse(record: SourceRecord): SourceRecord {
  const value = text(record.value);
  if (value === "poison") throw new Error("cannot parse a poison message");
  return { ...record, value: new TextEncoder().encode(value.toUpperCase()) };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = AbortSignal.timeout(60_000);
  while (!(await condition())) {
    if (deadline.aborted) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("rabbitmq poison messages", () => {
  beforeAll(async () => {
    admin = await adminConnection();
    channel = await admin.createConfirmChannel();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  afterAll(async () => {
    await admin?.close();
  });

  async function queues(): Promise<{ input: string; output: string }> {
    const input = uniqueName("sluice-poison-in");
    const output = uniqueName("sluice-poison-out");
    await channel.assertQueue(input, { durable: false });
    await channel.assertQueue(output, { durable: false });
    cleanups.push(
      () => channel.deleteQueue(input),
      () => channel.deleteQueue(output),
    );
    return { input, output };
  }

  it("with a dead-letter sink, diverts the poison message, outputs the rest and acknowledges all", async () => {
    const { input, output } = await queues();
    const values = ["a", "b", "poison", "c", "d"];
    await produce(channel, input, values);
    const dead = await mkdtemp(join(tmpdir(), "sluice-rabbitmq-poison-"));
    cleanups.push(() => rm(dead, { recursive: true, force: true }));
    const ctx = new StreamingContext({ batchInterval: 200 });
    ctx.use(rabbitmqSource, rabbitmqSink);
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    ctx
      .source("rabbitmq", { url: GUEST_URL, queue: { name: input, durable: false } })
      .map(parse)
      .sink("rabbitmq", { url: GUEST_URL, routingKey: output });
    await ctx.start();
    const outputs: string[] = [];
    try {
      await until(async () => {
        outputs.push(...(await drain(channel, output)));
        return outputs.length >= 4;
      }, "four outputs");
    } finally {
      await ctx.stop({ graceful: true });
      await closeConnectorsOf(ctx);
    }
    expect(ctx.scope.firstError()).toBeUndefined();
    expect(outputs).toEqual(["A", "B", "C", "D"]);
    expect(await depth(channel, input)).toBe(0);
    const files = (await readdir(dead)).filter((name) => !name.startsWith("."));
    const letters = (
      await Promise.all(files.map((file) => readFile(join(dead, file), "utf8")))
    ).flatMap((content) => content.split("\n").filter((line) => line !== ""));
    expect(letters.map((line) => (JSON.parse(line) as { record: string }).record)).toEqual([
      "poison",
    ]);
  }, 90_000);

  it("without a dead-letter sink, fails the job naming the message and loses nothing", async () => {
    const { input, output } = await queues();
    const values = ["a", "b", "poison", "c", "d"];
    await produce(channel, input, values);
    const ctx = new StreamingContext({ batchInterval: 200 });
    ctx.use(rabbitmqSource, rabbitmqSink);
    ctx
      .source("rabbitmq", { url: GUEST_URL, queue: { name: input, durable: false } })
      .map(parse)
      .sink("rabbitmq", { url: GUEST_URL, routingKey: output });
    await ctx.start();
    try {
      await until(async () => ctx.scope.firstError() !== undefined, "the batch to fail");
    } finally {
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    const error = ctx.scope.firstError() as { code?: string; message: string };
    expect(error.code).toBe("SLUICE_RECORD_FAILED");
    expect(error.message).toContain("poison");
    // Every message was output or is back in the queue: none is lost.
    const outputs = await drain(channel, output);
    const left = await drain(channel, input);
    expect(left).toContain("poison");
    expect(new Set([...outputs.map((value) => value.toLowerCase()), ...left])).toEqual(
      new Set(values),
    );
  }, 90_000);

  it("says when the same messages fail again and again, and counts the failed reads in a row", async () => {
    const { input } = await queues();
    await produce(channel, input, ["poison"]);
    const logs = new LogCapture();
    const registry = new ConnectorRegistry({ logger: logs.logger }).use(rabbitmqSource);
    cleanups.push(() => registry.dispose());
    const source = registry.createSource("rabbitmq", {
      url: GUEST_URL,
      queue: { name: input, durable: false },
    }).connector;
    if (!(source instanceof RabbitMqSource)) throw new Error("expected the RabbitMQ source");
    const session = new SourceSession(source);
    const signal = AbortSignal.timeout(30_000);
    await session.connect(signal);
    const readOne = async () => {
      for (;;) {
        const result = await session.next(signal);
        if (result === undefined) throw new Error("the source ended its input");
        if (result.records.length > 0) return result;
        await result.ack();
      }
    };
    // The job fails on it five times: each time the broker delivers it again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await readOne();
      expect(result.records.map((record) => text(record.value))).toEqual(["poison"]);
      await result.ack(new Error("the job failed on it"));
    }
    expect(source.metrics.failedReadsInARow).toBe(5);
    const warnings = logs
      .text()
      .split("\n")
      .filter((line) => line.includes("failed read(s) in a row"));
    // At the 1st, 2nd and 4th failure: the log says so without one line per failure.
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toContain(`queue \\"${input}\\"`);
    expect(warnings[2]).toContain("ctx.deadLetters");
    expect(warnings[2]).toContain("x-delivery-limit");
    const last = await readOne();
    await last.ack();
    expect(source.metrics.failedReadsInARow).toBe(0);
    await source.close();
    expect(await depth(channel, input)).toBe(0);
  }, 60_000);

  it("with a quorum queue's x-delivery-limit, the broker dead-letters the poison message and nothing is lost", async () => {
    const input = uniqueName("sluice-poison-quorum");
    const parked = uniqueName("sluice-poison-parked");
    const output = uniqueName("sluice-poison-quorum-out");
    await channel.assertQueue(parked, { durable: false });
    await channel.assertQueue(output, { durable: false });
    const queueArguments = {
      "x-queue-type": "quorum",
      "x-delivery-limit": 2,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": parked,
    };
    await channel.assertQueue(input, { durable: true, arguments: queueArguments });
    cleanups.push(
      () => channel.deleteQueue(input),
      () => channel.deleteQueue(parked),
      () => channel.deleteQueue(output),
    );
    const values = ["a", "b", "poison", "c", "d"];
    await produce(channel, input, values);
    const ctx = new StreamingContext({ batchInterval: 200 });
    ctx.use(rabbitmqSource, rabbitmqSink);
    ctx
      .source("rabbitmq", {
        url: GUEST_URL,
        queue: { name: input, durable: true, arguments: queueArguments },
      })
      .map(parse)
      .sink("rabbitmq", { url: GUEST_URL, routingKey: output });
    await ctx.start();
    const dead: string[] = [];
    const outputs: string[] = [];
    try {
      await until(async () => {
        dead.push(...(await drain(channel, parked)));
        outputs.push(...(await drain(channel, output)));
        return dead.length + outputs.length >= values.length;
      }, "every message to be output or dead-lettered");
    } finally {
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // Nothing lost, and the poison message was dead-lettered by the broker. Messages that
    // shared its failed batches may be dead-lettered with it (every nack counts against each of
    // them); how many depends on how the deliveries fell into reads, so it is not asserted.
    expect(dead).toContain("poison");
    expect([...dead, ...outputs.map((value) => value.toLowerCase())].sort()).toEqual(
      [...values].sort(),
    );
  }, 90_000);
});
