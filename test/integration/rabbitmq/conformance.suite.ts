// The SDK's conformance kit against the real broker, for the RabbitMQ source and sink.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { describeSinkConformance, describeSourceConformance } from "sluice/testing/conformance";
import { afterAll, beforeAll, describe } from "vitest";
import {
  RabbitMqSink,
  RabbitMqSource,
  rabbitmqSink,
  rabbitmqSource,
} from "../../../connectors/rabbitmq/src/index.js";
import {
  adminConnection,
  drain,
  dropConnectionsNamed,
  HOST,
  PORT,
  produce,
  TEST_PASSWORD,
  TEST_USER,
  uniqueName,
} from "./broker.js";

const encoder = new TextEncoder();
// Queues a failed run leaves behind disappear after ten unused minutes.
const QUEUE_ARGUMENTS = { "x-expires": 600_000 };

let admin: ChannelModel;
let channel: ConfirmChannel;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("rabbitmq conformance", () => {
  beforeAll(async () => {
    admin = await adminConnection();
    channel = await admin.createConfirmChannel();
  });

  afterAll(async () => {
    // Closed already when a later suite restarted the broker.
    await admin?.close().catch(() => undefined);
  });

  const credentials = { username: TEST_USER, password: TEST_PASSWORD };

  describeSourceConformance(
    "rabbitmq source",
    (testCase) => {
      const queue = uniqueName(`sluice-conformance-${testCase}`);
      const connectionName = uniqueName("sluice-conformance-source");
      return {
        plugin: rabbitmqSource,
        config: {
          hosts: [`${HOST}:${PORT}`],
          ...credentials,
          connectionName,
          queue: { name: queue, arguments: QUEUE_ARGUMENTS },
          prefetch: 50,
        },
        secretValues: [TEST_PASSWORD],
        produce: (values) => produce(channel, queue, values),
        dropConnections: async () => dropConnectionsNamed(connectionName),
        lostConnections: (source) => {
          if (!(source instanceof RabbitMqSource)) throw new Error("expected the RabbitMQ source");
          return source.metrics.connectionLosses;
        },
        cleanup: async () => {
          await channel.deleteQueue(queue);
        },
      };
    },
    {
      invalidConfig: {
        config: {
          url: "http://127.0.0.1",
          password: "not-shown-anywhere",
          queue: { name: "" },
          prefetch: 0,
        },
        paths: ["url", "queue.name", "prefetch"],
        secrets: ["not-shown-anywhere"],
      },
      notApplicable: {
        endOfInput: "a queue has no end: the source consumes until the job stops",
        seek: "a queue is not replayable",
        ackAfterOutput:
          "AMQP tells only a queue's ready count (checkQueue), not what a consumer holds unacknowledged; an acknowledgement at read shows in the restart case, whose closed channel must return every unacknowledged message",
      },
    },
  );

  describeSinkConformance(
    "rabbitmq sink",
    async (testCase) => {
      const exchange = uniqueName(`sluice-conformance-${testCase}`);
      const queue = `${exchange}-readback`;
      const connectionName = uniqueName("sluice-conformance-sink");
      // The exchange and a queue bound to it exist before the sink writes, so nothing is unroutable.
      await channel.assertExchange(exchange, "topic", { durable: false, autoDelete: false });
      await channel.assertQueue(queue, { arguments: QUEUE_ARGUMENTS });
      await channel.bindQueue(queue, exchange, "conformance.#");
      const written: string[] = [];
      return {
        plugin: rabbitmqSink,
        config: {
          url: `amqp://${encodeURIComponent(TEST_USER)}:${TEST_PASSWORD}@${HOST}:${PORT}`,
          connectionName,
          exchange,
          routingKey: "conformance.records",
        },
        secretValues: [TEST_PASSWORD],
        readBack: async () => {
          written.push(...(await drain(channel, queue)));
          return written.map((value) => encoder.encode(value));
        },
        dropConnections: async () => dropConnectionsNamed(connectionName),
        lostConnections: (sink) => {
          if (!(sink instanceof RabbitMqSink)) throw new Error("expected the RabbitMQ sink");
          return sink.metrics.connectionLosses;
        },
        cleanup: async () => {
          await channel.deleteQueue(queue);
          await channel.deleteExchange(exchange);
        },
      };
    },
    {
      invalidConfig: {
        config: {
          url: "amqp://user:hidden-password-123@127.0.0.1",
          hosts: ["127.0.0.1:5672"],
          routingKey: "orders.{nope}",
          exchangeType: "circular",
        },
        paths: ["routingKey", "exchangeType"],
        secrets: ["hidden-password-123"],
      },
    },
  );
});
