import { type ConnectorContext, clusterMembershipOf, SluiceError } from "sluice/connector";
import { type MqttSourceConfig, subscriptionsOf } from "./source-config.js";

/**
 * Refuses an MQTT source config that cannot work when its context runs as one process of a
 * cluster (the context's `cluster` option): every process runs the same job, so a filter that is
 * not a shared subscription would bring every message to every process. The processes share the
 * messages through the broker (`$share/<group>/<filter>`, each with its own client id); cluster
 * mode's Kafka group plays no part in it.
 *
 * @example
 * refuseUnsharedInCluster(config, context); // in the plugin's create
 */
export function refuseUnsharedInCluster(
  config: Pick<MqttSourceConfig, "topics" | "qos" | "clientId">,
  context: ConnectorContext,
): void {
  if (clusterMembershipOf(context) === undefined) return;
  const unshared = subscriptionsOf(config)
    .map((subscription) => subscription.filter)
    .filter((filter) => !filter.startsWith("$share/"));
  if (unshared.length === 0) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the MQTT source of client id "${config.clientId}" runs in cluster mode, where every process runs the job, but subscribes to ${unshared.map((filter) => `"${filter}"`).join(", ")} without sharing: every process would receive every message. Subscribe to "$share/<group>/<filter>" and give each process its own, stable client id (docs/connectors/mqtt.md, "Several processes")`,
  );
}
