// Prints the fraud alerts the job publishes to RabbitMQ: declares the exchange (as the job does)
// and a queue bound to every alert, then shows each message with its routing key.
//   node --import tsx samples/fraud-detection/watch-alerts.ts [--url amqp://127.0.0.1:5672] [--exchange fraud]
import { parseArgs } from "node:util";
import amqp from "amqplib";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "amqp://127.0.0.1:5672" },
    exchange: { type: "string", default: "fraud" },
    queue: { type: "string", default: "fraud-alerts" },
  },
});
const exchange = values.exchange ?? "fraud";
const queue = values.queue ?? "fraud-alerts";
const connection = await amqp.connect(values.url ?? "amqp://127.0.0.1:5672");
const channel = await connection.createChannel();
await channel.assertExchange(exchange, "topic", { durable: true });
await channel.assertQueue(queue, { durable: true });
await channel.bindQueue(queue, exchange, "alert.#");
console.log(`queue ${queue} bound to ${exchange} (alert.#); waiting for alerts, Ctrl-C stops`);
await channel.consume(queue, (message) => {
  if (message === null) return;
  console.log(`${message.fields.routingKey}: ${message.content.toString("utf8")}`);
  channel.ack(message);
});
