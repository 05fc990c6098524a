import type { ClusterKafkaSettings, ClusterMembership } from "../connector/cluster-membership.js";
import type { ResolvedClusterOptions } from "./cluster-options.js";

/** Called with this process's partitions (all sources, sorted) whenever they change. */
export type PartitionsListener = (partitions: readonly string[]) => void;

/**
 * This process's place in its cluster: the group, its id, and the partitions its sources own
 * now, as they report them after each rebalance. The context registers it for its connectors;
 * the CLI's status line listens to it.
 *
 * @example
 * const member = new ClusterMember({ kafka: { brokers: ["127.0.0.1:9092"] }, group: "wc", processId: "a" });
 * member.onPartitions((partitions) => console.log(partitions.join(", ")));
 */
export class ClusterMember implements ClusterMembership {
  readonly group: string;
  readonly processId: string;
  readonly kafka: ClusterKafkaSettings;
  readonly #bySource = new Map<string, readonly string[]>();
  readonly #listeners = new Set<PartitionsListener>();

  constructor(options: ResolvedClusterOptions) {
    this.group = options.group;
    this.processId = options.processId;
    this.kafka = options.kafka;
  }

  /** The partitions every source of this process owns now, sorted. */
  partitions(): string[] {
    return [...new Set([...this.#bySource.values()].flat())].sort();
  }

  reportPartitions(connectorId: string, partitions: readonly string[]): void {
    this.#bySource.set(connectorId, [...partitions]);
    const all = this.partitions();
    for (const listener of this.#listeners) listener(all);
  }

  /** Listens to partition changes; returns the function that stops listening. */
  onPartitions(listener: PartitionsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
