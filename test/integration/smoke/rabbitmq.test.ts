// Publishes and consumes one message on the local RabbitMQ broker
// (scripts/services/start rabbitmq).

import type { ConsumeMessage } from "amqplib";
import amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { deferred, SMOKE_TIMEOUT_MS, serverMissing, uniqueName, within } from "./helpers.js";

const URL = "amqp://guest:guest@127.0.0.1:5672";

describe("rabbitmq smoke", () => {
  it(
    "publishes to a new queue with a confirm and consumes the message back",
    async () => {
      const queue = uniqueName("smoke");
      let connection: amqp.ChannelModel;
      try {
        connection = await amqp.connect(URL, { timeout: 5_000 });
      } catch (err) {
        throw serverMissing("rabbitmq", "127.0.0.1:5672", err);
      }
      try {
        const channel = await connection.createConfirmChannel();
        const declared = await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
        expect(declared.queue).toBe(queue);

        const body = `hello ${queue}`;
        channel.sendToQueue(queue, Buffer.from(body), {
          contentType: "text/plain",
          messageId: queue,
          persistent: false,
        });
        await channel.waitForConfirms();

        const received = deferred<ConsumeMessage>();
        await channel.consume(queue, (msg) => {
          if (msg === null) {
            received.reject(new Error(`consumer of ${queue} was cancelled`));
            return;
          }
          channel.ack(msg);
          received.resolve(msg);
        });
        const msg = await within(20_000, `consuming from ${queue}`, received.promise);
        expect(msg.content.toString()).toBe(body);
        expect(msg.properties.messageId).toBe(queue);
        expect(msg.properties.contentType).toBe("text/plain");
        await channel.close();
      } finally {
        await connection.close();
      }
    },
    SMOKE_TIMEOUT_MS,
  );
});
