// The stock-spikes job on Kafka: ticks from a topic, alerts to another, against the real broker
// of scripts/services. Fails (never skips) when Kafka is missing.
import type { Admin, Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockService } from "../../../test/integration/kafka/services.js";
import {
  connectKafkaAdmin,
  connectProducer,
  createTopics,
  KAFKA_BROKER,
  readTopic,
  sampleKafka,
  uniqueKafkaName,
} from "../../../test/samples/kafka.js";
import { SluiceProcess, samplePath } from "../../../test/samples/sluice-process.js";
import { expectAlertsMatchFeed, priceFeed, type WrittenAlert } from "./price-feed.js";

const PRICES = uniqueKafkaName("prices");
const ALERTS = uniqueKafkaName("price-alerts");
let kafka: Kafka;
let admin: Admin | undefined;
let unlock: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // The Kafka suites restart the broker; they and this test take turns.
  unlock = await lockService("kafka");
  kafka = sampleKafka();
  admin = await connectKafkaAdmin(kafka);
  await createTopics(admin, [
    { topic: PRICES, partitions: 3 },
    { topic: ALERTS, partitions: 1 },
  ]);
}, 300_000);

afterAll(async () => {
  await admin?.deleteTopics({ topics: [PRICES, ALERTS] }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describe("samples/stock-spikes on Kafka", () => {
  it("reads ticks from a topic and produces the alerts, keyed by symbol, to another", async () => {
    const feed = priceFeed(9);
    const producer = await connectProducer(kafka);
    await producer.send({
      topic: PRICES,
      messages: feed.ticks.map((tick) => ({ key: tick.symbol, value: JSON.stringify(tick) })),
    });
    await producer.disconnect();

    const sluice = new SluiceProcess([
      "run",
      samplePath("stock-spikes", "job.ts"),
      "--batch",
      "100ms",
      "--set",
      "job.source.type=kafka",
      "--set",
      `job.source.brokers=["${KAFKA_BROKER}"]`,
      "--set",
      `job.source.topics=["${PRICES}"]`,
      "--set",
      `job.source.groupId=${uniqueKafkaName("stock-spikes")}`,
      "--set",
      "job.source.startFrom=earliest",
      "--set",
      "job.window=1s",
      "--set",
      "job.slide=100ms",
      "--set",
      "job.alerts.type=kafka",
      "--set",
      `job.alerts.brokers=["${KAFKA_BROKER}"]`,
      "--set",
      `job.alerts.topic=${ALERTS}`,
    ]);
    let printed: string[] = [];
    try {
      const alertsFor = (symbol: string) => (stdout: string) =>
        stdout.split("\n").some((line) => line.startsWith(`ALERT ${symbol} `));
      await sluice.waitForStdout(alertsFor("ACME"), "an alert for ACME", 45_000);
      await sluice.waitForStdout(alertsFor("GLOBEX"), "an alert for GLOBEX", 45_000);
      const exit = await sluice.stop();
      expect(exit.code, sluice.describe()).toBe(0);
      printed = exit.stdout.split("\n").filter((line) => line.startsWith("ALERT "));
    } finally {
      sluice.kill();
    }

    const messages = await readTopic(kafka, ALERTS, printed.length);
    expect(messages).toHaveLength(printed.length);
    const alerts = messages.map((message) => {
      const alert = JSON.parse(message.value) as WrittenAlert;
      expect(message.key).toBe(alert.symbol);
      return alert;
    });
    expectAlertsMatchFeed(alerts, feed, 5);
  }, 90_000);
});
