// Flow control of the RabbitMQ source against a fake broker that keeps RabbitMQ's rules: the
// prefetch window counts per consumer, a cancelled consumer gets nothing more, and messages
// delivered to it stay unacknowledged on the channel until acked there.
import { EventEmitter } from "node:events";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { RabbitMqSource } from "../src/rabbitmq-source.js";
import { rabbitmqSourceConfig } from "../src/source-config.js";

const decoder = new TextDecoder();
const tick = () => new Promise((resolve) => setImmediate(resolve));

interface Consumer {
  readonly deliver: (message: ConsumeMessage) => void;
  readonly prefetch: number;
  unacked: number;
}

/** One queue and one channel of a broker, with RabbitMQ's per-consumer prefetch. */
class FakeBroker {
  readonly queued: string[] = [];
  /** What the source did on the channel, in order: consume, cancel, ack and nack. */
  readonly operations: string[] = [];
  delivered = 0;
  readonly #consumers = new Map<string, Consumer>();
  /** Which consumer each unacknowledged delivery tag went to. */
  readonly #owners = new Map<number, string>();
  readonly #contents = new Map<number, string>();
  #prefetch = 0;
  #nextTag = 1;
  #consumerCount = 0;

  publish(count: number): void {
    for (let index = 0; index < count; index++) this.queued.push(String(this.queued.length));
    this.#schedule();
  }

  acked(): number {
    return this.operations.filter((operation) => operation.startsWith("ack")).length;
  }

  connect = async (): Promise<ChannelModel> => {
    const connection = new EventEmitter() as EventEmitter & Record<string, unknown>;
    const channel = new EventEmitter() as EventEmitter & Record<string, unknown>;
    channel.prefetch = async (count: number) => {
      this.#prefetch = count;
    };
    channel.assertQueue = async () => ({});
    channel.consume = async (_queue: string, deliver: (message: ConsumeMessage) => void) => {
      const consumerTag = `consumer-${++this.#consumerCount}`;
      this.#consumers.set(consumerTag, { deliver, prefetch: this.#prefetch, unacked: 0 });
      this.operations.push(`consume ${consumerTag}`);
      this.#schedule();
      return { consumerTag };
    };
    channel.cancel = async (consumerTag: string) => {
      // Deliveries already on the wire arrive before the cancel-ok.
      await tick();
      this.#consumers.delete(consumerTag);
      this.operations.push(`cancel ${consumerTag}`);
      return { consumerTag };
    };
    channel.ack = (message: ConsumeMessage) => this.#settle("ack", message);
    channel.nack = (message: ConsumeMessage) => this.#settle("nack", message);
    channel.close = async () => undefined;
    connection.createChannel = async () => channel as unknown as Channel;
    connection.close = async () => undefined;
    return connection as unknown as ChannelModel;
  };

  #settle(kind: "ack" | "nack", message: ConsumeMessage): void {
    const tag = message.fields.deliveryTag;
    const owner = this.#owners.get(tag);
    if (owner === undefined) throw new Error(`unknown delivery tag ${tag}`);
    this.#owners.delete(tag);
    const consumer = this.#consumers.get(owner);
    if (consumer !== undefined) consumer.unacked--;
    // By delivery tag, as the broker knows a message (the source settles with a message that no
    // longer holds its content, which its byte batch holds).
    this.operations.push(`${kind} ${this.#contents.get(tag)}`);
    this.#schedule();
  }

  #schedule(): void {
    setImmediate(() => this.#pump());
  }

  #pump(): void {
    for (const [consumerTag, consumer] of this.#consumers) {
      while (this.queued.length > 0 && consumer.unacked < consumer.prefetch) {
        const content = this.queued.shift() as string;
        const deliveryTag = this.#nextTag++;
        consumer.unacked++;
        this.delivered++;
        this.#owners.set(deliveryTag, consumerTag);
        this.#contents.set(deliveryTag, content);
        consumer.deliver({
          content: Buffer.from(content),
          fields: { deliveryTag, redelivered: false, exchange: "", routingKey: "q", consumerTag },
          properties: { headers: {} },
        } as unknown as ConsumeMessage);
      }
    }
  }
}

let source: RabbitMqSource | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

async function connected(broker: FakeBroker, prefetch: number): Promise<RabbitMqSource> {
  const config = rabbitmqSourceConfig.parse({
    url: "amqp://127.0.0.1",
    queue: { name: "q" },
    prefetch,
    maxRecordsPerRead: 100,
  });
  source = new RabbitMqSource(config, new LogCapture().logger, "source:rabbitmq#1", broker.connect);
  await source.connect(AbortSignal.timeout(1_000));
  return source;
}

const values = (result: ReadResult) => result.records.map((record) => decoder.decode(record.value));

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !condition(); attempt++) await tick();
  expect(condition()).toBe(true);
}

describe("RabbitMQ source flow control", () => {
  it("returns at most maxRecords per read and keeps the rest in order, unacknowledged", async () => {
    const broker = new FakeBroker();
    broker.publish(10);
    const rabbit = await connected(broker, 10);
    await until(() => broker.delivered === 10);
    const signal = AbortSignal.timeout(1_000);

    const first = await rabbit.read(signal, { maxRecords: 3 });
    const second = await rabbit.read(signal, { maxRecords: 4 });
    expect(values(first)).toEqual(["0", "1", "2"]);
    expect(values(second)).toEqual(["3", "4", "5", "6"]);
    await first.ack();
    expect(broker.operations.filter((operation) => operation.startsWith("ack"))).toEqual([
      "ack 0",
      "ack 1",
      "ack 2",
    ]);

    // Without a hint, maxRecordsPerRead is the only limit.
    expect(values(await rabbit.read(signal))).toEqual(["7", "8", "9"]);
    expect(rabbit.metrics.recordsIn).toBe(10);
  });

  it("cancels the consumer on pause; what was delivered is read after resume and acked on the same channel", async () => {
    const broker = new FakeBroker();
    broker.publish(20);
    const rabbit = await connected(broker, 4);
    await until(() => broker.delivered === 4);
    const signal = AbortSignal.timeout(1_000);
    const before = await rabbit.read(signal, { maxRecords: 2 });

    rabbit.pause();
    await until(() => broker.operations.includes("cancel consumer-1"));
    expect(await rabbit.read(signal)).toMatchObject({ records: [] });
    // Acknowledging frees the window, but a cancelled consumer gets nothing more: the broker
    // keeps the rest queued.
    await before.ack();
    await tick();
    await tick();
    expect(broker.acked()).toBe(2);
    expect(broker.delivered).toBe(4);
    expect(broker.queued).toHaveLength(16);

    rabbit.resume();
    await tick();
    // The two delivered before the pause are read first; no new consumer beside them.
    expect(broker.operations.filter((operation) => operation.startsWith("consume"))).toHaveLength(
      1,
    );
    const held = await rabbit.read(signal);
    expect(values(held)).toEqual(["2", "3"]);
    await held.ack();
    expect(broker.operations).toContain("ack 3");
    await until(() => broker.operations.includes("consume consumer-2"));
    expect(values(await rabbit.read(signal))).toEqual(["4", "5", "6", "7"]);
    expect(rabbit.metrics.consumerCancels).toBe(1);
  });

  it("never holds more than prefetch unread messages, however often it is paused and resumed", async () => {
    const broker = new FakeBroker();
    broker.publish(200);
    const prefetch = 5;
    const rabbit = await connected(broker, prefetch);
    const signal = AbortSignal.timeout(5_000);
    let read = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      // A small allowance per interval: one record, acknowledged at once (a write-ahead log).
      const result = await rabbit.read(signal, { maxRecords: 1 });
      read += result.records.length;
      await result.ack();
      rabbit.pause();
      for (let wait = 0; wait < 5; wait++) await tick();
      expect(broker.delivered - read).toBeLessThanOrEqual(prefetch);
      rabbit.resume();
      for (let wait = 0; wait < 5; wait++) await tick();
      expect(broker.delivered - read).toBeLessThanOrEqual(prefetch);
    }
    expect(read).toBe(12);
    expect(rabbit.metrics.consumerCancels).toBeGreaterThan(0);
  });

  it("starts no consumer when connecting while paused, and one on resume", async () => {
    const broker = new FakeBroker();
    broker.publish(3);
    const config = rabbitmqSourceConfig.parse({ url: "amqp://127.0.0.1", queue: { name: "q" } });
    source = new RabbitMqSource(config, new LogCapture().logger, "s", broker.connect);
    source.pause();
    await source.connect(AbortSignal.timeout(1_000));
    await tick();
    expect(broker.operations).toEqual([]);
    source.resume();
    const result = await source.read(AbortSignal.timeout(1_000));
    expect(values(result)).toEqual(["0", "1", "2"]);
    expect(broker.operations).toEqual(["consume consumer-1"]);
  });
});
