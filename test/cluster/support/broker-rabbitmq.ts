// The RabbitMQ side of the broker group tests: the shared queue declared ahead, a publisher of
// messages with unique ids, the queue deleted afterwards.
import amqplib, { type ChannelModel, type ConfirmChannel } from "amqplib";

/** The local RabbitMQ of scripts/services (guest on loopback). */
export const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

/** A connection with a confirm channel, for declaring, publishing and deleting. */
export interface QueueAdmin {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
}

/**
 * Opens the admin connection and declares `queue` as the members' source declares it (durable,
 * not exclusive, no arguments), so that messages published before a member runs wait in it.
 */
export async function declareQueue(queue: string): Promise<QueueAdmin> {
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false });
  return { connection, channel };
}

/**
 * Publishes one message per id (the id as body and as the message id) to `queue`, a window at a
 * time; resolves once the broker confirmed every one.
 */
export async function publishMessages(
  admin: QueueAdmin,
  queue: string,
  ids: readonly string[],
  window = 1_000,
): Promise<void> {
  for (let start = 0; start < ids.length; start += window) {
    for (const id of ids.slice(start, start + window)) {
      admin.channel.sendToQueue(queue, Buffer.from(id), { messageId: id, persistent: false });
    }
    await admin.channel.waitForConfirms();
  }
}

/** Messages ready in `queue` (not delivered to a consumer). */
export async function readyMessages(admin: QueueAdmin, queue: string): Promise<number> {
  return (await admin.channel.checkQueue(queue)).messageCount;
}

/** Deletes the queue and closes the admin connection. */
export async function dropQueue(admin: QueueAdmin, queue: string): Promise<void> {
  await admin.channel.deleteQueue(queue);
  await admin.channel.close();
  await admin.connection.close();
}
