import type { Logger } from "pino";
import { type ClusterMembership, SluiceError } from "sluice/connector";
import type { KafkaClientConfig } from "../client-config.js";
import type { KafkaSourceConfig } from "../source-config.js";
import { KafkaKeyedExchange } from "./kafka-keyed-exchange.js";

/**
 * The keyed exchange a Kafka source carries in cluster mode when the job has a keyed part
 * (`membership.keyedPartitions`), else undefined. Its map side writes under the source's
 * transactional id (cluster mode gives a keyed job's source one, see clusterSourceConfig); it
 * reaches Kafka with the cluster's settings and times its group like the source.
 *
 * @example
 * const exchange = keyedExchangeFor(config, membership, () => source.assignment(), logger);
 */
export function keyedExchangeFor(
  config: KafkaSourceConfig,
  membership: ClusterMembership,
  ownedInputs: () => readonly string[],
  logger: Logger,
): KafkaKeyedExchange | undefined {
  const partitions = membership.keyedPartitions;
  if (partitions === undefined) return undefined;
  const transactionalId = config.transactionalId;
  if (transactionalId === undefined) {
    throw new SluiceError(
      "SLUICE_ILLEGAL_STATE",
      `the Kafka source of cluster group "${membership.group}" has no transactionalId, which a job with a keyed part needs (clusterSourceConfig gives it one)`,
    );
  }
  const client: KafkaClientConfig = {
    brokers: membership.kafka.brokers,
    // The cluster's TLS settings are core's TLS options, which the Kafka client takes as they are.
    tls: membership.kafka.tls as KafkaClientConfig["tls"],
    sasl: membership.kafka.sasl,
    clientId: config.clientId,
    connectionTimeoutMs: config.connectionTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    retries: config.retries,
  };
  return new KafkaKeyedExchange(
    {
      client,
      group: membership.group,
      partitions,
      transactionalId,
      inputTopics: {
        ...(config.topics === undefined ? {} : { topics: config.topics }),
        ...(config.topicPattern === undefined ? {} : { topicPattern: config.topicPattern }),
      },
      ownedInputs,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      rebalanceTimeoutMs: config.rebalanceTimeoutMs,
      transactionTimeoutMs: config.transactionTimeoutMs,
      maxWaitTimeMs: config.maxWaitTimeMs,
    },
    logger,
  );
}
