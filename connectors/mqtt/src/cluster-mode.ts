import {
  CLUSTER_MEMBERSHIP,
  type ClusterMembership,
  type ConnectorContext,
  SluiceError,
} from "sluice/connector";
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
  if (!inCluster(context)) return;
  const unshared = subscriptionsOf(config)
    .map((subscription) => subscription.filter)
    .filter((filter) => !filter.startsWith("$share/"));
  if (unshared.length === 0) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the MQTT source of client id "${config.clientId}" runs in cluster mode, where every process runs the job, but subscribes to ${unshared.map((filter) => `"${filter}"`).join(", ")} without sharing: every process would receive every message. Subscribe to "$share/<group>/<filter>" and give each process its own, stable client id (docs/connectors/mqtt.md, "Several processes")`,
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
