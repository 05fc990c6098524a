// The queue deleted while the source consumes it: the broker cancels the consumer. The source
// notices, declares the queue again (queue.declare) and consumes what comes next; with
// queue.declare false it refuses, naming the queue.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import type { SourceRecord } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitMqSource, rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import { adminConnection, depth, GUEST_URL, produce, text, uniqueName } from "./broker.js";

const cleanups: (() => Promise<unknown>)[] = [];
let admin: ChannelModel;
let channel: ConfirmChannel;
// Retries at once: the test counts attempts, not time.
const BACKOFF = { initialDelayMs: 1, maxDelayMs: 5, multiplier: 1, jitter: 0 };

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = AbortSignal.timeout(30_000);
  while (!condition()) {
    if (deadline.aborted) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sourceFor(queue: Record<string, unknown>): RabbitMqSource {
  const registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSource);
  cleanups.push(() => registry.dispose());
  const source = registry.createSource("rabbitmq", { url: GUEST_URL, queue }).connector;
  if (!(source instanceof RabbitMqSource)) throw new Error("expected the RabbitMQ source");
  return source;
}

async function readValues(session: SourceSession, count: number): Promise<string[]> {
  const signal = AbortSignal.timeout(30_000);
  const records: SourceRecord[] = [];
  while (records.length < count) {
    const result = await session.next(signal);
    if (result === undefined) throw new Error("the source ended its input");
    records.push(...result.records);
    await result.ack();
  }
  return records.map((record) => text(record.value));
}

describe("rabbitmq queue deleted under the source", () => {
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

  it("declares the queue again and consumes what is published to it next", async () => {
    const queue = uniqueName("sluice-deleted");
    cleanups.push(() => channel.deleteQueue(queue));
    const source = sourceFor({ name: queue, durable: false });
    const session = new SourceSession(source, { backoff: BACKOFF });
    await session.connect(AbortSignal.timeout(30_000));
    await produce(channel, queue, ["a", "b"]);
    expect(await readValues(session, 2)).toEqual(["a", "b"]);

    await channel.deleteQueue(queue);
    const next = readValues(session, 2);
    // The source declares the queue again once it noticed the cancel: publish only then (to a
    // queue that does not exist, the default exchange drops the message).
    await until(() => source.metrics.connects >= 2, "the source to declare the queue again");
    await produce(channel, queue, ["c", "d"]);
    expect(await next).toEqual(["c", "d"]);
    expect(source.metrics.connectionLosses).toBe(1);
    await source.close();
    expect(await depth(channel, queue)).toBe(0);
  }, 60_000);

  it("with queue.declare false, refuses to go on, naming the queue that is gone", async () => {
    const queue = uniqueName("sluice-deleted-passive");
    await channel.assertQueue(queue, { durable: false });
    const source = sourceFor({ name: queue, declare: false });
    const session = new SourceSession(source, { backoff: BACKOFF });
    await session.connect(AbortSignal.timeout(30_000));
    await produce(channel, queue, ["a"]);
    expect(await readValues(session, 1)).toEqual(["a"]);
    await channel.deleteQueue(queue);
    const failure = await readValues(session, 1).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
    expect((failure as Error).message).toContain(`queue "${queue}"`);
    expect((failure as Error).message).toContain("queue.declare");
  }, 60_000);
});
