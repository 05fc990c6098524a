import type { ClusterMembership } from "sluice/connector";
import type { KafkaSinkConfig } from "./sink-config.js";
import type { KafkaSourceConfig } from "./source-config.js";

/**
 * A source's config in cluster mode: it joins the job's group, and its transactional id (the
 * pairing with a sink) gets this process's id, since every process runs the same job module
 * and a Kafka transactional id names one producer in the whole cluster.
 *
 * @example
 * const config = clusterSourceConfig(parsed, membership);
 */
export function clusterSourceConfig(
  config: KafkaSourceConfig,
  membership: ClusterMembership,
): KafkaSourceConfig {
  // A job with a keyed part writes its exchange in the source's transactions, so its source
  // always has a transactional id.
  const transactionalId =
    config.transactionalId ??
    (membership.keyedPartitions === undefined ? undefined : `${membership.group}.sluice-map`);
  return {
    ...config,
    groupId: membership.group,
    ...(transactionalId === undefined
      ? {}
      : { transactionalId: processTransactionalId(transactionalId, membership) }),
  };
}

/**
 * A sink's config in cluster mode: its transactional id gets this process's id, as its paired
 * source's does (`clusterSourceConfig`), so the two still pair up inside the process.
 *
 * @example
 * const config = clusterSinkConfig(parsed, membership);
 */
export function clusterSinkConfig(
  config: KafkaSinkConfig,
  membership: ClusterMembership,
): KafkaSinkConfig {
  return config.transactionalId === undefined
    ? config
    : {
        ...config,
        transactionalId: processTransactionalId(config.transactionalId, membership),
      };
}

function processTransactionalId(id: string, membership: ClusterMembership): string {
  return `${id}.${membership.processId}`;
}
