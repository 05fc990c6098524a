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
