// The fraud-detection job against the real Kafka and RabbitMQ of scripts/services: transactions
// produced to a fresh topic, alerts read back from a fresh topic and a queue bound to a fresh
// exchange. Fails (never skips) when a server is missing.
import type { Channel, ChannelModel } from "amqplib";
import amqp from "amqplib";
import type { Admin, Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockService } from "../../../test/integration/kafka/services.js";
import { temporaryFolder } from "../../../test/samples/files.js";
import {
  connectKafkaAdmin,
  connectProducer,
  createTopics,
  readTopic,
  sampleKafka,
  uniqueKafkaName,
} from "../../../test/samples/kafka.js";
import { SluiceProcess, samplePath } from "../../../test/samples/sluice-process.js";
import { lockServer } from "../../../test/support/service-lock.js";
import { type ExpectedAlert, expectedAlerts, generateTransactions } from "./transactions.js";

const RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672";
const TRANSACTIONS = uniqueKafkaName("transactions");
const ALERTS = uniqueKafkaName("fraud-alerts");
const EXCHANGE = uniqueKafkaName("fraud");
const QUEUE = uniqueKafkaName("fraud-alerts-queue");

let kafka: Kafka;
let admin: Admin | undefined;
let rabbit: ChannelModel | undefined;
let channel: Channel | undefined;
let unlockKafka: (() => Promise<void>) | undefined;
let unlockRabbitMq: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // Some integration suites restart these brokers; they and this test take turns (locks are
  // always taken in name order, so no two processes wait for each other).
  unlockKafka = await lockService("kafka");
  unlockRabbitMq = await lockServer("rabbitmq");
  kafka = sampleKafka();
  admin = await connectKafkaAdmin(kafka);
  await createTopics(admin, [
    { topic: TRANSACTIONS, partitions: 3 },
    { topic: ALERTS, partitions: 1 },
  ]);
  try {
    // The timeout only stops a handshake that hangs; a loaded broker can take seconds.
    rabbit = await amqp.connect(RABBITMQ_URL, { timeout: 20_000 });
  } catch (error) {
    throw new Error(
      `RabbitMQ is not answering at 127.0.0.1:5672 (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start rabbitmq`,
      { cause: error },
    );
  }
  channel = await rabbit.createChannel();
  // As the job's sink declares it; a queue bound to every alert.
  await channel.assertExchange(EXCHANGE, "topic", { durable: true });
  await channel.assertQueue(QUEUE, { durable: false });
  await channel.bindQueue(QUEUE, EXCHANGE, "alert.#");
}, 300_000);

afterAll(async () => {
  await admin?.deleteTopics({ topics: [TRANSACTIONS, ALERTS] }).catch(() => undefined);
  await admin?.disconnect();
  await channel?.deleteQueue(QUEUE).catch(() => undefined);
  await channel?.deleteExchange(EXCHANGE).catch(() => undefined);
  await rabbit?.close().catch(() => undefined);
  await unlockRabbitMq?.();
  await unlockKafka?.();
});

/** What the test can check of an alert the job wrote. */
function comparable(alert: ExpectedAlert): ExpectedAlert {
  const { alertId, rule, card, transaction, amount, ts } = alert;
  return { alertId, rule, card, transaction, amount, ts };
}

describe("samples/fraud-detection (Kafka → mapWithState → Kafka and RabbitMQ)", () => {
  it("raises exactly the velocity and amount alerts the rules give, on both outputs", async () => {
    const transactions = generateTransactions(2025);
    const expected = expectedAlerts(transactions);
    // The patterns show: 2 velocity (card-0100), 1 amount (card-0102), 1 limit (card-0103),
    // and both rules on card-0105; card-0101 and card-0104 stay just below them.
    expect(expected.map((alert) => `${alert.card}:${alert.rule}`).sort()).toEqual([
      "card-0100:velocity",
      "card-0100:velocity",
      "card-0102:amount",
      "card-0103:amount",
      "card-0105:amount",
      "card-0105:velocity",
    ]);

    const producer = await connectProducer(kafka);
    await producer.send({
      topic: TRANSACTIONS,
      messages: [
        ...transactions.map((transaction) => ({
          key: transaction.card,
          value: JSON.stringify(transaction),
        })),
        { key: "card-0001", value: '{"id":"tx-bad","card":"card-0001","amount":"12"}' },
      ],
    });
    await producer.disconnect();

    const checkpoint = await temporaryFolder("fraud-checkpoint");
    const sluice = new SluiceProcess([
      "run",
      samplePath("fraud-detection", "job.ts"),
      "--config",
      samplePath("fraud-detection", "fraud-detection.yaml"),
      "--batch",
      "200ms",
      "--checkpoint",
      checkpoint.path,
      "--set",
      `job.source.topics=["${TRANSACTIONS}"]`,
      "--set",
      `job.source.groupId=${uniqueKafkaName("fraud-detection")}`,
      "--set",
      `job.alerts.kafka.topic=${ALERTS}`,
      "--set",
      `job.alerts.rabbitmq.exchange=${EXCHANGE}`,
    ]);
    try {
      // Alerts are printed once both outputs confirmed them.
      await sluice.waitForStdout(
        (stdout) => (stdout.match(/^ALERT /gm) ?? []).length >= expected.length,
        `${expected.length} alerts`,
        45_000,
      );
      const exit = await sluice.stop();
      expect(exit.code, sluice.describe()).toBe(0);
      expect(exit.stdout.match(/^ALERT /gm)).toHaveLength(expected.length);
      expect(exit.stdout).toMatch(
        /^ALERT velocity card-0100 tx-\d+ \(21\.00 EUR at \S+\): 7 transactions within 60 s$/m,
      );
      expect(exit.stderr).toContain('amount of tx-bad must be a number of at least 0, got "12"');
      expect(exit.stderr).toMatch(
        new RegExp(
          `^fraud-detection: stopped after \\d+ batches, ${transactions.length + 1} records in, \\d+ out$`,
          "m",
        ),
      );
    } finally {
      sluice.kill();
      await checkpoint.remove();
    }

    // Kafka: exactly the expected alerts, keyed by card.
    const offsets = await admin?.fetchTopicOffsets(ALERTS);
    expect(offsets?.map((offset) => Number(offset.high))).toEqual([expected.length]);
    const fromKafka = (await readTopic(kafka, ALERTS, expected.length)).map((message) => {
      const alert = JSON.parse(message.value) as ExpectedAlert;
      expect(message.key).toBe(alert.card);
      return comparable(alert);
    });
    expect(fromKafka.sort((a, b) => (a.alertId < b.alertId ? -1 : 1))).toEqual(expected);

    // RabbitMQ: the same alerts, routed by rule.
    expect((await channel?.checkQueue(QUEUE))?.messageCount).toBe(expected.length);
    const fromRabbit: ExpectedAlert[] = [];
    for (;;) {
      const message = await channel?.get(QUEUE, { noAck: true });
      if (message === undefined || message === false) break;
      const alert = JSON.parse(message.content.toString("utf8")) as ExpectedAlert;
      expect(message.fields.routingKey).toBe(`alert.${alert.rule}`);
      expect(message.properties.contentType).toBe("application/json");
      fromRabbit.push(comparable(alert));
    }
    expect(fromRabbit.sort((a, b) => (a.alertId < b.alertId ? -1 : 1))).toEqual(expected);
  }, 90_000);
});
