import { defineSink, defineSource, refuseInKeyedCluster } from "sluice/connector";
import { refuseExclusiveInCluster } from "./cluster-mode.js";
import { RabbitMqSink } from "./rabbitmq-sink.js";
import { RabbitMqSource } from "./rabbitmq-source.js";
import { rabbitmqSinkConfig } from "./sink-config.js";
import { rabbitmqSourceConfig } from "./source-config.js";

const VERSION = "0.1.0";

/**
 * The RabbitMQ source plugin: consumes a queue, acknowledging each message only when Sluice
 * acknowledges the read that returned it (after the batch holding it was output, or once it is
 * in the write-ahead log when the job checkpoints). Not replayable in Sluice's sense (a queue
 * cannot deliver acknowledged messages again from an offset), so with checkpointing its records
 * go through the write-ahead log.
 *
 * @example
 * ctx.use(rabbitmqSource);
 * const orders = ctx.source("rabbitmq", { url: "amqp://127.0.0.1", queue: { name: "orders" } });
 */
export const rabbitmqSource = defineSource({
  name: "rabbitmq",
  version: VERSION,
  description: "Consumes a RabbitMQ queue; messages are acknowledged once their batch is output.",
  config: rabbitmqSourceConfig,
  capabilities: { replayable: false },
  create: (config, context) => {
    refuseExclusiveInCluster(config, context);
    refuseInKeyedCluster(`RabbitMQ source of queue "${config.queue.name}"`, "RabbitMQ", context);
    return new RabbitMqSource(config, context.logger, context.id);
  },
});

/**
 * The RabbitMQ sink plugin: publishes to an exchange with publisher confirms. Not idempotent:
 * a replayed batch is published again (with the same message ids).
 *
 * @example
 * counts.sink("rabbitmq", { url: "amqp://127.0.0.1", exchange: "counts", exchangeType: "topic", routingKey: "count.{key}" });
 */
export const rabbitmqSink = defineSink({
  name: "rabbitmq",
  version: VERSION,
  description: "Publishes records to a RabbitMQ exchange, waiting for publisher confirms.",
  config: rabbitmqSinkConfig,
  capabilities: { idempotent: false },
  create: (config, context) => new RabbitMqSink(config, context.logger, context.id),
});

/** Both plugins, for `registry.loadPlugins(["@sluice/rabbitmq"])`. */
export const plugins = [rabbitmqSource, rabbitmqSink];
export default plugins;

// The template lives in core; re-exported so `@sluice/rabbitmq` keeps offering it.
export { RecordTemplate, TEMPLATE_PLACEHOLDERS } from "sluice/connector";
export { checkConnection, type RabbitMqConnectionCheck } from "./check-connection.js";
export {
  type AmqpConnect,
  type BrokerAddress,
  brokerAddresses,
  explainConnectError,
} from "./connect.js";
export { type ConnectionConfig, connectionConfig, tlsOptions } from "./connection-config.js";
export { RabbitMqSink, type RabbitMqSinkMetrics } from "./rabbitmq-sink.js";
export { RabbitMqSource, type RabbitMqSourceMetrics } from "./rabbitmq-source.js";
export {
  type RabbitMqSinkConfig,
  type RoutingKeyFunction,
  rabbitmqSinkConfig,
} from "./sink-config.js";
export {
  bindingOptions,
  queueOptions,
  type RabbitMqSourceConfig,
  rabbitmqSourceConfig,
} from "./source-config.js";
