import { type ConnectorContext, clusterMembershipOf, SluiceError } from "sluice/connector";
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
  if (!config.queue.exclusive || clusterMembershipOf(context) === undefined) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the RabbitMQ source of queue "${config.queue.name}" runs in cluster mode, where every process runs the job and consumes the queue, but queue.exclusive is true: only one connection may use an exclusive queue. Set queue.exclusive to false (docs/connectors/rabbitmq.md, "Several processes")`,
  );
}
