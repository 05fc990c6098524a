import {
  CLUSTER_MEMBERSHIP,
  type ClusterMembership,
  type ConnectorContext,
  SluiceError,
} from "sluice/connector";
import type { RabbitMqSourceConfig } from "./source-config.js";

/**
 * Refuses a RabbitMQ source config that cannot work when its context runs as one process of a
 * cluster (the context's `cluster` option): every process runs the same job and consumes the
 * same queue, as competing consumers, so the queue cannot be exclusive to one connection (the
 * others would be refused with RESOURCE_LOCKED, again and again). Cluster mode's Kafka group
 * plays no part in sharing a queue.
 *
 * @example
 * refuseExclusiveInCluster(config, context); // in the plugin's create
 */
export function refuseExclusiveInCluster(
  config: Pick<RabbitMqSourceConfig, "queue">,
  context: ConnectorContext,
): void {
  if (!config.queue.exclusive || !inCluster(context)) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the RabbitMQ source of queue "${config.queue.name}" runs in cluster mode, where every process runs the job and consumes the queue, but queue.exclusive is true: only one connection may use an exclusive queue. Set queue.exclusive to false (docs/connectors/rabbitmq.md, "Several processes")`,
  );
}

/**
 * Refuses the source in a cluster job with state across batches: the keyed part's batches are
 * aligned by markers per Kafka input partition, which this broker's shared consumption has no
 * counterpart for. The message says how to split such a job.
 *
 * @example
 * refuseKeyedJobInCluster("MQTT", `client id "${config.clientId}"`, context);
 */
export function refuseKeyedJobInCluster(
  kind: string,
  which: string,
  context: ConnectorContext,
): void {
  const membership = membershipOf(context);
  if (membership?.keyedPartitions === undefined) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the ${kind} source of ${which} runs in cluster mode in a job with state across batches (windows, updateStateByKey, mapWithState), whose keyed part needs its input from one Kafka source: its batches are aligned by markers per Kafka input partition. Split the job: a stateless cluster job from ${kind} into a Kafka topic, and the stateful job in cluster mode from that topic (docs/cluster.md, "Keyed state")`,
  );
}

function inCluster(context: ConnectorContext): boolean {
  return membershipOf(context) !== undefined;
}

function membershipOf(context: ConnectorContext): ClusterMembership | undefined {
  try {
    return context.resolve(CLUSTER_MEMBERSHIP);
  } catch {
    // Not registered: the context runs alone.
    return undefined;
  }
}
