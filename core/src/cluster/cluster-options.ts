import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ClusterKafkaSettings } from "../connector/cluster-membership.js";

/**
 * Runs the context as one process of a cluster: every process runs the same job module with the
 * same `group`, and Kafka's consumer group protocol shares the input partitions among them
 * (docs/cluster.md).
 *
 * @example
 * new StreamingContext({ batchInterval: "1s", cluster: { kafka: { brokers: ["k1:9092"] }, group: "word-count" } });
 */
export interface ClusterOptions {
  /** The Kafka cluster that coordinates the processes (and holds the job's offsets). */
  readonly kafka: ClusterKafkaSettings;
  /** The job's id: the consumer group every process of the job joins. */
  readonly group: string;
  /**
   * This process's id, unique in the group and never reused (default: host, pid and a random
   * suffix). It names the process's Kafka transactional ids, so two live processes must never
   * share one.
   */
  readonly processId?: string;
  /**
   * How many keyed partitions a job with state across batches is split into (default 8): each
   * is owned by one process at a time, so this bounds how many processes share the keyed work.
   * It names the partition count of the job's repartition and changelog topics, so it cannot
   * change while they hold the job's state.
   */
  readonly keyedPartitions?: number;
}

/** Cluster options checked, with the process id chosen. */
export interface ResolvedClusterOptions {
  readonly kafka: ClusterKafkaSettings;
  readonly group: string;
  readonly processId: string;
  readonly keyedPartitions: number;
}

/** Keyed partitions when the cluster options do not say. */
export const DEFAULT_KEYED_PARTITIONS = 8;

const GROUP = /^[A-Za-z0-9._-]{1,200}$/;
const HOST_PORT = /^[^\s:]+:\d{1,5}$/;

/**
 * Checks cluster options, adding one line per problem to `problems`; returns the resolved
 * options when there was none.
 *
 * @example
 * const problems: string[] = [];
 * resolveClusterOptions({ kafka: { brokers: ["127.0.0.1:9092"] }, group: "wc" }, problems);
 */
export function resolveClusterOptions(
  options: ClusterOptions,
  problems: string[],
): ResolvedClusterOptions | undefined {
  const before = problems.length;
  if (typeof options !== "object" || options === null) {
    problems.push('cluster must be { kafka: { brokers: ["host:port"] }, group: "<job id>" }');
    return undefined;
  }
  if (typeof options.group !== "string" || !GROUP.test(options.group)) {
    problems.push(
      `cluster.group must be the job's id (1 to 200 of A-Z a-z 0-9 . _ -), got ${JSON.stringify(options.group)}`,
    );
  }
  const brokers = options.kafka?.brokers;
  if (
    !Array.isArray(brokers) ||
    brokers.length === 0 ||
    !brokers.every((broker) => typeof broker === "string" && HOST_PORT.test(broker))
  ) {
    problems.push(
      `cluster.kafka.brokers must list the Kafka brokers as "host:port", got ${JSON.stringify(brokers)}`,
    );
  }
  const processId = options.processId ?? defaultProcessId();
  if (typeof processId !== "string" || !GROUP.test(processId)) {
    problems.push(
      `cluster.processId must be 1 to 200 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(processId)}`,
    );
  }
  const keyedPartitions = options.keyedPartitions ?? DEFAULT_KEYED_PARTITIONS;
  if (!Number.isInteger(keyedPartitions) || keyedPartitions < 1 || keyedPartitions > 10_000) {
    problems.push(
      `cluster.keyedPartitions must be a whole number from 1 to 10000, got ${JSON.stringify(options.keyedPartitions)}`,
    );
  }
  if (problems.length > before) return undefined;
  return { kafka: options.kafka, group: options.group, processId, keyedPartitions };
}

// Host and pid tell an operator which process it is; the random part keeps a restarted process
// (same host, maybe the same pid) from reusing a dead one's transactional ids.
function defaultProcessId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 100);
  return `${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}
