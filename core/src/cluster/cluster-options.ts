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
}

/** Cluster options checked, with the process id chosen. */
export interface ResolvedClusterOptions {
  readonly kafka: ClusterKafkaSettings;
  readonly group: string;
  readonly processId: string;
}

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
  if (problems.length > before) return undefined;
  return { kafka: options.kafka, group: options.group, processId };
}

// Host and pid tell an operator which process it is; the random part keeps a restarted process
// (same host, maybe the same pid) from reusing a dead one's transactional ids.
function defaultProcessId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 100);
  return `${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}
