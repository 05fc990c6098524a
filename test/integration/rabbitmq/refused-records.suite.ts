// Records the broker will not take, in a job with dead letters: an unroutable message
// (mandatory), a record whose routing key cannot be built, and a message over the broker's
// max_message_size. The sink names each by its index, so Sluice diverts it to the dead-letter
// sink and writes the rest; the records the broker already took are not published twice.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { ConnectorRegistry, SinkSession } from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitMqSink, rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { adminConnection, drain, GUEST_URL, rabbitmqctl, uniqueName } from "./broker.js";

const cleanups: (() => Promise<unknown>)[] = [];
let admin: ChannelModel;
let channel: ConfirmChannel;

interface DeadLetter {
  readonly record: string;
  readonly error: string;
}

async function deadLettersIn(directory: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const files = (await readdir(directory)).filter((name) => !name.startsWith(".")).sort();
  for (const file of files) {
    for (const line of (await readFile(join(directory, file), "utf8")).split("\n")) {
      if (line !== "") letters.push(JSON.parse(line) as DeadLetter);
    }
  }
  return letters;
}

/** Runs one batch of `values` into the RabbitMQ sink with `config`, in a job with dead letters. */
async function runBatch(
  values: readonly string[],
  config: Record<string, unknown>,
): Promise<{ error: unknown; letters: DeadLetter[] }> {
  const dead = await mkdtemp(join(tmpdir(), "sluice-rabbitmq-dead-letters-"));
  cleanups.push(() => rm(dead, { recursive: true, force: true }));
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  ctx.use(rabbitmqSink);
  ctx.deadLetters("file", { directory: dead, format: "jsonl" });
  ctx.queueStream([[...values]]).sink("rabbitmq", { url: GUEST_URL, ...config });
  await ctx.start();
  let error: unknown;
  try {
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    error = ctx.scope.firstError();
  } finally {
    await ctx.stop();
    await closeConnectorsOf(ctx);
  }
  return { error, letters: await deadLettersIn(dead) };
}

describe("rabbitmq records the broker refuses", () => {
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

  it("diverts unroutable records and records without a routing key, and publishes the others once", async () => {
    const exchange = uniqueName("sluice-refused");
    const queue = uniqueName("sluice-refused-good");
    await channel.assertExchange(exchange, "direct", { durable: false, autoDelete: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, "good");
    cleanups.push(
      () => channel.deleteExchange(exchange),
      () => channel.deleteQueue(queue),
    );
    const values = [
      { kind: "good", n: 0 },
      { kind: "nowhere", n: 1 },
      { kind: "good", n: 2 },
      { n: 3 },
      { kind: "good", n: 4 },
      { kind: "nowhere", n: 5 },
    ].map((value) => JSON.stringify(value));

    const { error, letters } = await runBatch(values, { exchange, routingKey: "{json.kind}" });

    expect(error).toBeUndefined();
    expect(await drain(channel, queue)).toEqual([values[0], values[2], values[4]]);
    expect(letters.map((letter) => letter.record).sort()).toEqual(
      [values[1], values[3], values[5]].sort(),
    );
    const unroutable = letters.find((letter) => letter.record === values[1]);
    expect(unroutable?.error).toContain("unroutable");
    expect(unroutable?.error).toContain(`exchange "${exchange}"`);
    const noKey = letters.find((letter) => letter.record === values[3]);
    expect(noKey?.error).toContain("routing key");
  });

  it("diverts a record over the broker's max_message_size, naming the limit, and publishes the others", async () => {
    const queue = uniqueName("sluice-too-large");
    await channel.assertQueue(queue, { durable: false });
    cleanups.push(() => channel.deleteQueue(queue));
    const small = ["first", "second", "third"];
    const large = "x".repeat(10_000);
    // Channels read the limit when they open; the sink's channel opens after this.
    await rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 4096).");
    let result: { error: unknown; letters: DeadLetter[] };
    try {
      result = await runBatch([small[0] ?? "", large, small[1] ?? "", small[2] ?? ""], {
        routingKey: queue,
      });
    } finally {
      await rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 134217728).");
    }
    expect(result.error).toBeUndefined();
    // At least once: a message published before the refusal may be published again when its
    // confirm was lost with the channel the broker closed.
    expect(new Set(await drain(channel, queue))).toEqual(new Set(small));
    expect(result.letters.map((letter) => letter.record)).toEqual([large]);
    expect(result.letters[0]?.error).toContain("4096");
  });

  it("fails a write to an exchange deleted under the sink, naming it, without retrying for ever", async () => {
    const exchange = uniqueName("sluice-gone");
    const queue = uniqueName("sluice-gone-queue");
    await channel.assertExchange(exchange, "fanout", { durable: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, "");
    cleanups.push(() => channel.deleteQueue(queue));
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("rabbitmq", { url: GUEST_URL, exchange }).connector;
    if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
    const session = new SinkSession(sink, {
      backoff: { initialDelayMs: 1, maxDelayMs: 5, multiplier: 1, jitter: 0 },
    });
    const signal = AbortSignal.timeout(30_000);
    const batch = (value: string) => [{ value: new TextEncoder().encode(value) }];
    await session.write(
      batch("before"),
      { batchTime: 1000, partition: 0, idempotencyKey: "t/1000/0/0" },
      signal,
    );
    expect(await drain(channel, queue)).toEqual(["before"]);

    await channel.deleteExchange(exchange);
    const failure = await session
      .write(
        batch("after"),
        { batchTime: 2000, partition: 0, idempotencyKey: "t/2000/0/0" },
        signal,
      )
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
    expect((failure as Error).message).toContain(`exchange "${exchange}"`);
    expect((failure as Error).message).toContain("does not exist");
  });

  it("after a negative confirm (a full queue), writes the batch again without the records the broker took", async () => {
    const queue = uniqueName("sluice-full");
    await channel.assertQueue(queue, {
      durable: false,
      arguments: { "x-max-length": 3, "x-overflow": "reject-publish" },
    });
    cleanups.push(() => channel.deleteQueue(queue));
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("rabbitmq", { url: GUEST_URL, routingKey: queue }).connector;
    if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
    const taken: string[] = [];
    // Each wait before a retry makes room: a consumer takes what the queue holds.
    const session = new SinkSession(sink, {
      delay: async () => {
        taken.push(...(await drain(channel, queue)));
      },
    });
    const values = ["a", "b", "c", "d", "e"];
    await session.write(
      values.map((value) => ({ value: new TextEncoder().encode(value) })),
      { batchTime: 1000, partition: 0, idempotencyKey: "t/1000/0/0" },
      AbortSignal.timeout(30_000),
    );
    taken.push(...(await drain(channel, queue)));
    expect(sink.metrics.nacked).toBeGreaterThan(0);
    // Each exactly once: the three the queue took at first were not published again.
    expect(taken).toEqual(values);
  });

  it("keeps each record's message id when the batch is written again without a record before it", async () => {
    const exchange = uniqueName("sluice-ids");
    const queue = uniqueName("sluice-ids-queue");
    await channel.assertExchange(exchange, "direct", { durable: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, "good");
    cleanups.push(
      () => channel.deleteExchange(exchange),
      () => channel.deleteQueue(queue),
    );
    const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSink);
    cleanups.push(() => registry.dispose());
    const sink = registry.createSink("rabbitmq", {
      url: GUEST_URL,
      exchange,
      routingKey: "{key}",
    }).connector;
    if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
    await sink.connect(AbortSignal.timeout(30_000));
    const encoder = new TextEncoder();
    const record = (value: string, key: string) => ({
      value: encoder.encode(value),
      key: encoder.encode(key),
    });
    const records = [record("r0", "good"), record("r1", "later"), record("r2", "later")];
    const context = { batchTime: 1000, partition: 0, idempotencyKey: "ids/1000/0/0" };
    // r1 and r2 are unroutable; r1 is named, as Sluice's dead-letter handling would divert it.
    const refused = await sink.writeBatch(records, context).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "SLUICE_INVALID_RECORD", recordIndex: 1 });
    // Meanwhile a queue for "later" appears: the batch is written again without r1.
    await channel.bindQueue(queue, exchange, "later");
    await sink.writeBatch(
      [records[0], records[2]].filter((r) => r !== undefined),
      context,
    );
    const ids: Record<string, unknown> = {};
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      ids[message.content.toString()] = message.properties.messageId;
    }
    // r0 once (confirmed the first time), r2 with the id of its place in the batch, which no
    // other record of the batch has.
    expect(ids).toEqual({ r0: "ids/1000/0/0/0", r2: "ids/1000/0/0/2" });
    await sink.close();
  });
});
