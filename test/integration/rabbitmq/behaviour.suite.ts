// What the RabbitMQ connectors promise beyond the conformance kit, against the real broker:
// acknowledgements held until ack(), stale delivery tags never acked on a new channel, the
// order of requeued messages, bindings, routing keys, unroutable messages, metrics.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import type { SinkRecord, SourceRecord } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  RabbitMqSink,
  RabbitMqSource,
  rabbitmqSink,
  rabbitmqSource,
} from "../../../connectors/rabbitmq/src/index.js";
import {
  adminConnection,
  depth,
  drain,
  dropConnectionsNamed,
  GUEST_URL,
  produce,
  text,
  uniqueName,
} from "./broker.js";

// Only stops a wait that hangs: connecting to and reading from the broker can take seconds on a
// loaded machine.
const DEADLINE_MS = 20_000;

const encoder = new TextEncoder();
const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitter: 0 };

let admin: ChannelModel;
let channel: ConfirmChannel;
let registry: ConnectorRegistry;
const cleanups: (() => Promise<unknown>)[] = [];

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("rabbitmq behaviour", () => {
  beforeAll(async () => {
    admin = await adminConnection();
    channel = await admin.createConfirmChannel();
  });

  afterEach(async () => {
    await registry?.dispose();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  afterAll(async () => {
    // Closed already when a later suite restarted the broker.
    await admin?.close().catch(() => undefined);
  });

  function newRegistry(): ConnectorRegistry {
    registry = new ConnectorRegistry({ logger: new LogCapture().logger })
      .use(rabbitmqSource)
      .use(rabbitmqSink);
    return registry;
  }

  // Queues a failed run leaves behind disappear after ten unused minutes.
  const EXPIRES = { "x-expires": 600_000 };

  async function queueFor(test: string): Promise<string> {
    const queue = uniqueName(`sluice-${test}`);
    await channel.assertQueue(queue, { arguments: EXPIRES });
    cleanups.push(() => channel.deleteQueue(queue));
    return queue;
  }

  function sourceOf(config: Record<string, unknown>): RabbitMqSource {
    const source = newRegistry().createSource("rabbitmq", { url: GUEST_URL, ...config }).connector;
    if (!(source instanceof RabbitMqSource)) throw new Error("expected the RabbitMQ source");
    return source;
  }

  function sinkOf(config: Record<string, unknown>): RabbitMqSink {
    const sink = newRegistry().createSink("rabbitmq", { url: GUEST_URL, ...config }).connector;
    if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
    return sink;
  }

  /** Reads until `count` records came, keeping every result unsettled. */
  async function readAtLeast(
    session: SourceSession,
    count: number,
  ): Promise<{ records: SourceRecord[]; results: ReadResult[] }> {
    const signal = AbortSignal.timeout(10_000);
    const records: SourceRecord[] = [];
    const results: ReadResult[] = [];
    while (records.length < count) {
      const result = await session.next(signal);
      if (result === undefined) throw new Error("the source ended its input");
      results.push(result);
      records.push(...result.records);
    }
    return { records, results };
  }

  const values = (records: readonly SourceRecord[]) => records.map((record) => text(record.value));
  const header = (record: SourceRecord | undefined, name: string) =>
    record?.headers[name] === undefined ? undefined : text(record.headers[name]);

  describe("rabbitmq source against the broker", () => {
    it("acknowledges nothing before ack(): closing returns every message to the queue", async () => {
      const queue = await queueFor("hold");
      const source = sourceOf({ queue: { name: queue, arguments: EXPIRES } });
      const session = new SourceSession(source);
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await produce(channel, queue, ["a", "b", "c"]);
      const first = await readAtLeast(session, 3);
      expect(values(first.records)).toEqual(["a", "b", "c"]);
      expect(header(first.records[0], "amqp-redelivered")).toBe("false");
      await source.close();
      expect(await depth(channel, queue)).toBe(3);

      const again = sourceOf({ queue: { name: queue, arguments: EXPIRES } });
      const next = new SourceSession(again);
      const second = await readAtLeast(next, 3);
      expect(values(second.records)).toEqual(["a", "b", "c"]);
      expect(second.records.map((record) => header(record, "amqp-redelivered"))).toEqual([
        "true",
        "true",
        "true",
      ]);
      for (const result of second.results) await result.ack();
      await again.close();
      expect(await depth(channel, queue)).toBe(0);
      expect(again.metrics).toMatchObject({ recordsIn: 3, acked: 3, redelivered: 3, bytesIn: 3 });
    });

    it("skips acks of messages from a dead channel instead of acking their tags on the new one", async () => {
      const queue = await queueFor("stale");
      const connectionName = uniqueName("sluice-stale");
      const source = sourceOf({ queue: { name: queue, arguments: EXPIRES }, connectionName });
      const session = new SourceSession(source, { backoff: FAST_BACKOFF });
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await produce(channel, queue, ["s0", "s1", "s2", "s3"]);
      const before = await readAtLeast(session, 4);
      expect(await dropConnectionsNamed(connectionName)).toBe(1);

      // The session reconnects; the broker delivers the unacknowledged messages again, with the
      // same delivery tags 1..4 on the new channel.
      const after = await readAtLeast(session, 4);
      expect(values(after.records)).toEqual(["s0", "s1", "s2", "s3"]);
      expect(after.records.every((record) => header(record, "amqp-redelivered") === "true")).toBe(
        true,
      );
      for (const result of before.results) await result.ack();
      expect(source.metrics.staleSettles).toBe(4);
      expect(source.metrics.acked).toBe(0);

      // Had the stale acks reached the new channel, the redeliveries would be gone from the queue.
      await source.close();
      expect(await depth(channel, queue)).toBe(4);
    });

    it("requeues a failed read together with the messages received after it, in queue order", async () => {
      const queue = await queueFor("requeue");
      const source = sourceOf({
        queue: { name: queue, arguments: EXPIRES },
        maxRecordsPerRead: 2,
        prefetch: 10,
      });
      const session = new SourceSession(source);
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await produce(channel, queue, ["r0", "r1", "r2", "r3", "r4"]);
      // Wait until all five were received before reading, so the first read takes exactly two
      // (a read made while only one had arrived would take one, and the next two more) and three
      // sit unread behind it (a message still on its way when the nack lands would come before
      // the requeued ones).
      await expect.poll(() => source.metrics.received, { timeout: DEADLINE_MS }).toBe(5);
      const first = await readAtLeast(session, 2);
      expect(source.metrics.recordsIn).toBe(2);
      await first.results[0]?.ack(new Error("the batch failed"));
      const again = await readAtLeast(session, 5);
      expect(values(again.records).slice(0, 5)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
      for (const result of again.results) await result.ack();
      await source.close();
      expect(await depth(channel, queue)).toBe(0);
      expect(source.metrics.requeued).toBe(5);
    });

    it("declares its queue, binds it to a topic exchange and keys records by routing key", async () => {
      const exchange = uniqueName("sluice-bind");
      const queue = uniqueName("sluice-bind-queue");
      cleanups.push(async () => {
        await channel.deleteQueue(queue);
        await channel.deleteExchange(exchange);
      });
      const source = sourceOf({
        queue: { name: queue, arguments: EXPIRES },
        bindings: [{ exchange, exchangeType: "topic", routingKeys: ["orders.*", "refunds.#"] }],
      });
      const session = new SourceSession(source);
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      channel.publish(exchange, "orders.eu", Buffer.from("o1"), {
        headers: { tenant: "acme", attempt: 2 },
        messageId: "m-1",
        timestamp: 1_700_000_000,
      });
      channel.publish(exchange, "billing.eu", Buffer.from("ignored"));
      channel.publish(exchange, "refunds.us.big", Buffer.from("r1"));
      await channel.waitForConfirms();
      const { records, results } = await readAtLeast(session, 2);
      expect(values(records)).toEqual(["o1", "r1"]);
      const [order, refund] = records;
      expect(text(order?.key ?? new Uint8Array())).toBe("orders.eu");
      expect(text(refund?.key ?? new Uint8Array())).toBe("refunds.us.big");
      expect(header(order, "tenant")).toBe("acme");
      expect(header(order, "attempt")).toBe("2");
      expect(header(order, "amqp-message-id")).toBe("m-1");
      expect(header(order, "amqp-exchange")).toBe(exchange);
      expect(order?.timestampMs).toBe(1_700_000_000_000);
      expect(order?.partition).toBe(queue);
      expect(Number(refund?.offset)).toBeGreaterThan(Number(order?.offset));
      for (const result of results) await result.ack();
    });

    it("refuses, without retrying, a queue that must exist but does not", async () => {
      const source = sourceOf({ queue: { name: uniqueName("sluice-missing"), declare: false } });
      const failure = await source
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect(String(failure.message)).toMatch(
        /RabbitMQ at 127\.0\.0\.1:5672 refused checking queue/,
      );
      expect(String(failure.message)).toContain("queue.declare");
    });
  });

  describe("rabbitmq sink against the broker", () => {
    const context = (batch: number) => ({
      batchTime: 1_700_000_000_000 + batch * 1000,
      partition: 0,
      idempotencyKey: `job/${1_700_000_000_000 + batch * 1000}/0/0`,
    });

    it("routes by a template of the record and publishes persistent messages with their ids and headers", async () => {
      const exchange = uniqueName("sluice-route");
      const eu = await queueFor("route-eu");
      const us = await queueFor("route-us");
      const sink = sinkOf({
        exchange,
        exchangeType: "direct",
        routingKey: "{header.region}.{key}",
      });
      cleanups.push(() => channel.deleteExchange(exchange));
      await sink.connect(AbortSignal.timeout(DEADLINE_MS));
      await channel.bindQueue(eu, exchange, "eu.k1");
      await channel.bindQueue(us, exchange, "us.k2");
      const records: SinkRecord[] = [
        {
          value: encoder.encode("v1"),
          key: encoder.encode("k1"),
          headers: { region: encoder.encode("eu") },
        },
        {
          value: encoder.encode("v2"),
          key: encoder.encode("k2"),
          headers: { region: encoder.encode("us") },
        },
      ];
      await sink.writeBatch(records, context(0));
      const message = await channel.get(eu, { noAck: true });
      if (message === false) throw new Error("nothing was routed to the eu queue");
      expect(message.content.toString()).toBe("v1");
      expect(message.properties.deliveryMode).toBe(2);
      expect(message.properties.messageId).toBe("job/1700000000000/0/0/0");
      expect(message.properties.headers?.region).toBe("eu");
      expect(await drain(channel, us)).toEqual(["v2"]);
      expect(sink.metrics).toMatchObject({ recordsOut: 2, bytesOut: 4, batches: 1, returned: 0 });
    });

    it("fails a batch whose messages no queue receives, naming the record and routing key", async () => {
      const exchange = uniqueName("sluice-unroutable");
      const sink = sinkOf({ exchange, exchangeType: "topic", routingKey: "nowhere.{key}" });
      cleanups.push(() => channel.deleteExchange(exchange));
      await sink.connect(AbortSignal.timeout(DEADLINE_MS));
      const failure = await sink
        .writeBatch([{ value: encoder.encode("x"), key: encoder.encode("k") }], context(0))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_INVALID_RECORD" });
      expect(String(failure.message)).toContain('routing key "nowhere.k"');
      expect(String(failure.message)).toContain("record 0 of batch 1700000000000");
      expect(sink.metrics.returned).toBe(1);
    });

    it("refuses a record without what the routing key template needs, before publishing any", async () => {
      const queue = await queueFor("nokey");
      const sink = sinkOf({ routingKey: "{key}" });
      await sink.connect(AbortSignal.timeout(DEADLINE_MS));
      const failure = await sink
        .writeBatch(
          [
            { value: encoder.encode("ok"), key: encoder.encode(queue) },
            { value: encoder.encode("no key") },
          ],
          context(3),
        )
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_INVALID_RECORD" });
      expect(String(failure.message)).toContain("record 1 of batch 1700000003000 (partition 0)");
      expect(String(failure.message)).toContain("{key} needs a record key");
      expect(await depth(channel, queue)).toBe(0);
    });
  });
});
