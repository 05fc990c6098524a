import { clusterMembershipOf, defineSink, defineSource } from "sluice/connector";
import { clusterSinkConfig, clusterSourceConfig } from "./cluster-mode.js";
import { createKafkaClient } from "./kafka-client.js";
import { KafkaSink } from "./kafka-sink.js";
import { KafkaSource } from "./kafka-source.js";
import { kafkaSinkConfig } from "./sink-config.js";
import { kafkaSourceConfig } from "./source-config.js";

/**
 * The Kafka source plugin: `ctx.source("kafka", { brokers, topics, groupId })`. Replayable:
 * Sluice checkpoints the offsets and hands them back on restart.
 *
 * @example
 * ctx.use(kafkaSource);
 * const orders = ctx.source("kafka", { brokers: ["127.0.0.1:9092"], topics: ["orders"], groupId: "totals" });
 */
export const kafkaSource = defineSource({
  name: "kafka",
  version: "0.1.0",
  description: "Records of Kafka topics, read in a consumer group; offsets committed after output.",
  config: kafkaSourceConfig,
  capabilities: { replayable: true },
  create: (config, context) => {
    const membership = clusterMembershipOf(context);
    if (membership === undefined) {
      return new KafkaSource(config, context.logger, context.committedOffsets);
    }
    return new KafkaSource(
      clusterSourceConfig(config, membership),
      context.logger,
      context.committedOffsets,
      createKafkaClient,
      { membership, connectorId: context.id },
    );
  },
});

/**
 * The Kafka sink plugin: `stream.sink("kafka", { brokers, topic })`. Not idempotent: a replayed
 * batch is produced again (transactions make one write all-or-nothing, not replays unique).
 *
 * @example
 * ctx.use(kafkaSink);
 * totals.sink("kafka", { brokers: ["127.0.0.1:9092"], topic: "totals" });
 */
export const kafkaSink = defineSink({
  name: "kafka",
  version: "0.1.0",
  description: "Produces records to a Kafka topic (idempotent producer, optional transactions).",
  config: kafkaSinkConfig,
  capabilities: { idempotent: false },
  create: (config, context) => {
    const membership = clusterMembershipOf(context);
    if (membership === undefined) return new KafkaSink(config, context.logger);
    return new KafkaSink(clusterSinkConfig(config, membership), context.logger, {
      oneBatchPerTransaction: true,
    });
  },
});

/** Both plugins, for `ctx.use(...plugins)` and for `plugins: ["@sluice/kafka"]`. */
export const plugins = [kafkaSource, kafkaSink];

export default plugins;
export { checkConnection, type KafkaConnectionInfo } from "./check-connection.js";
export {
  type KafkaClientConfig,
  type KafkaClientConfigInput,
  kafkaClientConfig,
  kafkaSaslOptions,
  kafkaTlsOptions,
} from "./client-config.js";
export { clusterSinkConfig, clusterSourceConfig } from "./cluster-mode.js";
export { KafkaSink, type KafkaSinkMetrics } from "./kafka-sink.js";
export {
  type KafkaClientFactory,
  KafkaSource,
  type KafkaSourceCluster,
  type KafkaSourceMetrics,
} from "./kafka-source.js";
export {
  KafkaKeyedExchange,
  type KafkaKeyedExchangeMetrics,
  type KafkaKeyedExchangeSettings,
} from "./keyed/kafka-keyed-exchange.js";
export { readAbortedTransactionsCorrectly } from "./read-committed.js";
export { type KafkaSinkConfig, kafkaSinkConfig } from "./sink-config.js";
export { type KafkaSourceConfig, kafkaSourceConfig } from "./source-config.js";
export { parsePartitionKey, partitionKey, type TopicPartition } from "./topic-partition.js";
