import { SluiceError } from "../errors/sluice-error.js";
import type { ConnectorContext } from "./connector-context.js";
import type { KeyedExchange } from "./keyed-exchange.js";
import type { TlsConfig } from "./tls-config.js";
import { type ServiceToken, serviceToken } from "./tokens.js";

/** How cluster mode reaches Kafka: the brokers, and TLS/SASL as the Kafka connector takes them. */
export interface ClusterKafkaSettings {
  /** Bootstrap brokers as "host:port". */
  readonly brokers: readonly string[];
  /** true, or TLS options, to connect with TLS. */
  readonly tls?: boolean | Partial<TlsConfig>;
  /** SASL authentication. */
  readonly sasl?: {
    readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
    readonly username: string;
    readonly password: string;
  };
}

/**
 * What a connector learns when its context runs as one process of a cluster: the job's group
 * (every process of the job joins it), this process's id (unique among the group's processes,
 * also across restarts) and the Kafka cluster that coordinates them. A source that takes part
 * reports the partitions the group gave it.
 *
 * @example
 * const membership = context.resolve(CLUSTER_MEMBERSHIP);
 * const groupId = membership.group;
 */
export interface ClusterMembership {
  /** The job's group: every process of the job joins it (the Kafka consumer group). */
  readonly group: string;
  /** This process's id: unique among the processes of the group, never reused. */
  readonly processId: string;
  /** The Kafka cluster the group is coordinated by. */
  readonly kafka: ClusterKafkaSettings;
  /**
   * Tells the cluster which partitions the connector `connectorId` owns now, as
   * `"<topic>-<partition>"` (after every rebalance; empty when it owns none).
   */
  reportPartitions(connectorId: string, partitions: readonly string[]): void;
  /**
   * The job's keyed partitions when it has a keyed part (a shuffle or state across batches),
   * which then runs as one task per keyed partition through a `KeyedExchange`; `undefined` for
   * a job whose outputs depend only on each batch's records.
   */
  readonly keyedPartitions: number | undefined;
  /**
   * Hands the context the exchange that carries the job's keyed part. The Kafka source does
   * this in cluster mode when `keyedPartitions` is set (exactly one source may).
   */
  offerKeyedExchange(exchange: KeyedExchange): void;
}

/**
 * The context's cluster membership, registered in its connector registry only when the context
 * runs in cluster mode (the `cluster` option); sources never see their context, so they look it
 * up here.
 */
export const CLUSTER_MEMBERSHIP: ServiceToken<ClusterMembership> = serviceToken<ClusterMembership>(
  "sluice.ClusterMembership",
);

/**
 * The cluster a connector's context runs in, or `undefined` when it runs alone (the context's
 * `cluster` option registers it under `CLUSTER_MEMBERSHIP`).
 *
 * @example
 * const membership = clusterMembershipOf(context);
 */
export function clusterMembershipOf(context: ConnectorContext): ClusterMembership | undefined {
  try {
    return context.resolve(CLUSTER_MEMBERSHIP);
  } catch {
    // Not registered: the context runs alone.
    return undefined;
  }
}

/**
 * Refuses a source that cannot feed the keyed part of a cluster job (one with state across
 * batches): the keyed part's batches are aligned by markers per Kafka input partition, so it
 * reads one Kafka source. `source` names the source in the message (`MQTT source of client id
 * "a"`), `broker` what to split the job at.
 *
 * @example
 * refuseInKeyedCluster(`MQTT source of client id "${config.clientId}"`, "MQTT", context);
 */
export function refuseInKeyedCluster(
  source: string,
  broker: string,
  context: ConnectorContext,
): void {
  if (clusterMembershipOf(context)?.keyedPartitions === undefined) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `the ${source} runs in cluster mode in a job with state across batches (windows, updateStateByKey, mapWithState), whose keyed part needs its input from one Kafka source: its batches are aligned by markers per Kafka input partition. Split the job: a stateless cluster job from ${broker} into a Kafka topic, and the stateful job in cluster mode from that topic (docs/cluster.md, "Keyed state")`,
  );
}
