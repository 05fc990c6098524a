// A job reading from RabbitMQ and Kafka with the connection settings of its config file (job
// section), for the secret-leak test: `sluice check` validates them, `sluice run` tries them.
import { kafkaSource } from "@sluice/kafka";
import { rabbitmqSource } from "@sluice/rabbitmq";
import { defineJob } from "sluice";

export default defineJob<{ readonly rabbitmq?: unknown; readonly kafka?: unknown }>((ctx, args) => {
  if (args.rabbitmq !== undefined) ctx.source(rabbitmqSource, args.rabbitmq).print();
  if (args.kafka !== undefined) ctx.source(kafkaSource, args.kafka).print();
});
