// The SDK's conformance kit against the real broker, for the RabbitMQ source.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { describeSourceConformance } from "sluice/testing";
import { afterAll, beforeAll } from "vitest";
import { rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import {
  adminConnection,
  dropConnectionsNamed,
  HOST,
  PORT,
  produce,
  TEST_PASSWORD,
  TEST_USER,
  uniqueName,
} from "./broker.js";

// Queues a failed run leaves behind disappear after ten unused minutes.
const QUEUE_ARGUMENTS = { "x-expires": 600_000 };

let admin: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  admin = await adminConnection();
  channel = await admin.createConfirmChannel();
});

afterAll(async () => {
  await admin?.close();
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
      dropConnections: async () => {
        const dropped = await dropConnectionsNamed(connectionName);
        if (dropped === 0) throw new Error(`no connection named ${connectionName} to drop`);
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
    },
  },
);
