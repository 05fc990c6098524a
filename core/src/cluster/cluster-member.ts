import type { ClusterKafkaSettings, ClusterMembership } from "../connector/cluster-membership.js";
import type { KeyedExchange } from "../connector/keyed-exchange.js";
import { SluiceError } from "../errors/sluice-error.js";
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
  readonly #options: ResolvedClusterOptions;
  #keyedPartitions: number | undefined;
  #exchange: KeyedExchange | undefined;
  readonly #exchangeWaiters: Array<(exchange: KeyedExchange) => void> = [];

  constructor(options: ResolvedClusterOptions) {
    this.group = options.group;
    this.processId = options.processId;
    this.kafka = options.kafka;
    this.#options = options;
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

  /** The job's keyed partitions when it has a keyed part (set by the context at start). */
  get keyedPartitions(): number | undefined {
    return this.#keyedPartitions;
  }

  /** Declares that the job has a keyed part (with `options.keyedPartitions`), before its sources start. */
  planKeyedPart(): number {
    this.#keyedPartitions = this.#options.keyedPartitions;
    return this.#keyedPartitions;
  }

  offerKeyedExchange(exchange: KeyedExchange): void {
    if (this.#exchange !== undefined && this.#exchange !== exchange) {
      throw new SluiceError(
        "SLUICE_INVALID_CONFIG",
        `cluster group "${this.group}": a second source offered to carry the job's keyed part; a cluster job with a keyed part reads exactly one Kafka source`,
      );
    }
    this.#exchange = exchange;
    for (const waiter of this.#exchangeWaiters.splice(0)) waiter(exchange);
  }

  /** The exchange of the job's keyed part if a source offered it already. */
  get offeredExchange(): KeyedExchange | undefined {
    return this.#exchange;
  }

  /** The exchange of the job's keyed part, once a source offered it. */
  keyedExchange(): Promise<KeyedExchange> {
    const exchange = this.#exchange;
    if (exchange !== undefined) return Promise.resolve(exchange);
    return new Promise((resolve) => this.#exchangeWaiters.push(resolve));
  }

  /** Listens to partition changes; returns the function that stops listening. */
  onPartitions(listener: PartitionsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
