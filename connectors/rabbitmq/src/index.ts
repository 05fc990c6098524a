import { defineSource } from "sluice";
import { RabbitMqSource } from "./rabbitmq-source.js";
import { rabbitmqSourceConfig } from "./source-config.js";

const VERSION = "0.1.0";

/**
 * The RabbitMQ source plugin: consumes a queue, acknowledging each message once the batch
 * holding it was output. Replayable in Sluice's sense: the broker keeps every message Sluice
 * has not acknowledged and delivers it again after a crash or a lost connection, so no
 * write-ahead log is needed.
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
  capabilities: { replayable: true },
  create: (config, context) => new RabbitMqSource(config, context.logger, context.id),
});

/** The plugins, for `registry.loadPlugins(["@sluice/rabbitmq"])`. */
export const plugins = [rabbitmqSource];
export default plugins;

export { checkConnection, type RabbitMqConnectionCheck } from "./check-connection.js";
export {
  type AmqpConnect,
  type BrokerAddress,
  brokerAddresses,
  explainConnectError,
} from "./connect.js";
export { type ConnectionConfig, connectionConfig, tlsOptions } from "./connection-config.js";
export { RabbitMqSource, type RabbitMqSourceMetrics } from "./rabbitmq-source.js";
export {
  bindingOptions,
  queueOptions,
  type RabbitMqSourceConfig,
  rabbitmqSourceConfig,
} from "./source-config.js";
