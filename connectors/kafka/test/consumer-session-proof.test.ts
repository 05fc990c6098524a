import type { Kafka } from "kafkajs";
import pino from "pino";
import { validateConfig } from "sluice";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConsumerSession, type KafkaClientFactory } from "../src/consumer-session.js";
import { ReadPath } from "../src/read-path.js";
import { kafkaSourceConfig } from "../src/source-config.js";
import { FakeConsumer, fakeAdmin } from "./fake-kafka.js";

const HEARTBEAT_INTERVAL_MS = 500;

async function connectedSession(): Promise<{ session: ConsumerSession; consumer: FakeConsumer }> {
  const config = validateConfig(
    kafkaSourceConfig,
    {
      brokers: ["127.0.0.1:9"],
      topics: ["orders"],
      groupId: "unit",
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    },
    "source",
  );
  const logger = pino({ level: "silent" });
  const consumer = new FakeConsumer({ orders: [0] });
  const factory: KafkaClientFactory = () =>
    ({ consumer: () => consumer, admin: fakeAdmin }) as unknown as Pick<
      Kafka,
      "consumer" | "admin"
    >;
  const readPath = new ReadPath(config, logger, { recordsIn: 0, bytesIn: 0 });
  const session = new ConsumerSession(
    config,
    logger,
    factory,
    readPath,
    { rebalances: 0, restarts: 0, errors: 0 },
    { wake: () => undefined, assigned: () => undefined },
    new Map(),
    true,
  );
  await session.connect(AbortSignal.timeout(5_000));
  // A fetched batch gives the session kafkajs's heartbeat (which sends none here: one went out
  // within the interval).
  await consumer.deliver("orders", 0, [0], 1);
  return { session, consumer };
}

// kafkajs answers a heartbeat: the request's answer (with when it went out), then the event.
function heartbeatAnswered(consumer: FakeConsumer, sentAt: number): void {
  consumer.emit(consumer.events.REQUEST, { apiName: "Heartbeat", sentAt });
  consumer.emit(consumer.events.HEARTBEAT, { memberId: "member-1" });
}

describe("ConsumerSession.heartbeat (membership proof before a commit)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("refuses a heartbeat answer read only after the event loop was blocked past the session", async () => {
    const { session, consumer } = await connectedSession();
    const sentAt = Date.now();
    // The heartbeat went out just before a 12 s batch blocked the event loop; its answer is
    // read after it, when the session (6 s) may have expired long ago.
    vi.setSystemTime(sentAt + 12_000);
    heartbeatAnswered(consumer, sentAt);
    await expect(session.heartbeat()).rejects.toThrow(/no heartbeat of this member passed/);
  });

  it("waits for kafkajs's next heartbeat when the last answer was read late, and accepts its proof", async () => {
    const { session, consumer } = await connectedSession();
    // A heartbeat went out 2 s ago, before a busy stretch; its answer is read only now, so
    // kafkajs sends no other within the next interval, while the proof is 2 s old.
    const sentAt = Date.now();
    vi.setSystemTime(sentAt + 2_000);
    heartbeatAnswered(consumer, sentAt);
    let sent = 0;
    consumer.sendHeartbeat = async () => {
      // kafkajs sends again only once its interval since the answer is over.
      if (Date.now() < sentAt + 2_000 + HEARTBEAT_INTERVAL_MS) return;
      sent++;
      heartbeatAnswered(consumer, Date.now());
    };
    const proving = session.heartbeat();
    // The session waits out kafkajs's interval (on the real timers) and asks again.
    vi.setSystemTime(sentAt + 2_000 + HEARTBEAT_INTERVAL_MS + 10);
    await expect(proving).resolves.toBeUndefined();
    expect(sent).toBe(1);
  });

  it("still refuses when kafkajs sends no heartbeat after its interval (it forgot the member)", async () => {
    const { session, consumer } = await connectedSession();
    const sentAt = Date.now();
    vi.setSystemTime(sentAt + 2_000);
    heartbeatAnswered(consumer, sentAt);
    let asked = 0;
    consumer.sendHeartbeat = async () => {
      asked++;
    };
    const proving = session.heartbeat();
    vi.setSystemTime(sentAt + 2_000 + HEARTBEAT_INTERVAL_MS + 10);
    await expect(proving).rejects.toThrow(/no heartbeat of this member passed/);
    expect(asked).toBe(2);
  });

  it("accepts a heartbeat whose request went out within the interval", async () => {
    const { session, consumer } = await connectedSession();
    vi.setSystemTime(Date.now() + 12_000);
    heartbeatAnswered(consumer, Date.now() - 100);
    vi.setSystemTime(Date.now() + 50);
    await expect(session.heartbeat()).resolves.toBeUndefined();
  });
});
