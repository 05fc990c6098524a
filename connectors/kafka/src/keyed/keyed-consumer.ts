import type {
  Consumer,
  ConsumerCrashEvent,
  ConsumerGroupJoinEvent,
  Kafka,
  KafkaMessage,
} from "kafkajs";
import type { Logger } from "pino";
import { abortable, closeQuietly } from "sluice/connector";
import { coPartitionedAssigner } from "./co-partitioned-assigner.js";
import type { KeyedTopics } from "./keyed-topics.js";

/** The group and timing of the keyed side's consumer. */
export interface KeyedConsumerSettings {
  /** `<group>.sluice-keyed`. */
  readonly groupId: string;
  readonly topics: KeyedTopics;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxWaitTimeMs: number;
}

/** What the consumer tells the exchange. */
export interface KeyedConsumerEvents {
  /** A new assignment: the keyed partitions owned now; every partition is paused. */
  readonly assigned: (partitions: readonly number[]) => void;
  /** Committed records of a partition being read, in log order. */
  readonly records: (topic: string, partition: number, messages: readonly KafkaMessage[]) => void;
  /** The consumer passed `lastOffset` of a partition being read (control records included). */
  readonly progressed: (topic: string, partition: number, lastOffset: bigint) => void;
  /** The consumer failed for good. */
  readonly failed: (error: unknown) => void;
}

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The keyed side's consumer: a member of the group `<group>.sluice-keyed`, subscribed to the
 * repartition and changelog topics with `read_committed`, each keyed partition's two topic
 * partitions assigned together (coPartitionedAssigner). The group only shares the partitions:
 * positions belong to the exchange (the changelog holds them), nothing is committed to the
 * group, and every partition stays paused until the exchange seeks it (`read`).
 *
 * @example
 * const consumer = new KeyedConsumer(kafka, settings, events, logger);
 * await consumer.start(signal);
 * consumer.read(topics.changelog, 3, "0");
 */
export class KeyedConsumer {
  readonly #kafka: Pick<Kafka, "consumer">;
  readonly #settings: KeyedConsumerSettings;
  readonly #events: KeyedConsumerEvents;
  readonly #logger: Logger;
  #consumer: Consumer | undefined;
  /** Partitions being read now, as `"<topic>:<partition>"`. */
  readonly #reading = new Set<string>();
  #unreadBatches = 0;

  constructor(
    kafka: Pick<Kafka, "consumer">,
    settings: KeyedConsumerSettings,
    events: KeyedConsumerEvents,
    logger: Logger,
  ) {
    this.#kafka = kafka;
    this.#settings = settings;
    this.#events = events;
    this.#logger = logger;
  }

  /**
   * Fetched batches of partitions not being read (dropped): only a fetch under way when a
   * partition stopped gives one, so this stays near zero.
   */
  get unreadBatches(): number {
    return this.#unreadBatches;
  }

  /** Joins the group and starts fetching (assignments arrive through `events.assigned`). */
  async start(signal: AbortSignal): Promise<void> {
    const settings = this.#settings;
    const { repartition, changelog } = settings.topics;
    const consumer = this.#kafka.consumer({
      groupId: settings.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      retry: {
        retries: 5,
        initialRetryTime: 100,
        maxRetryTime: 5_000,
        restartOnFailure: async () => true,
      },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      if (this.#consumer !== consumer) return;
      // Eager rebalancing: everything was revoked. Nothing is read until the exchange seeks.
      this.#reading.clear();
      // Partition by partition: kafkajs forgets a whole-topic pause as soon as one partition of
      // the topic is paused or resumed on its own.
      const assignment = event.payload.memberAssignment;
      consumer.pause(
        [repartition, changelog].map((topic) => ({ topic, partitions: assignment[topic] ?? [] })),
      );
      const owned = assignment[repartition] ?? [];
      this.#events.assigned([...owned].sort((a, b) => a - b));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, lastOffset } = event.payload;
      if (this.#consumer !== consumer || !this.#reading.has(readingKey(topic, partition))) return;
      this.#events.progressed(topic, partition, BigInt(lastOffset));
    });
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (this.#consumer !== consumer) return;
      if (event.payload.restart) {
        this.#logger.warn({ err: event.payload.error }, "the keyed exchange's consumer restarts");
        return;
      }
      this.#events.failed(event.payload.error);
    });
    await abortable(consumer.connect(), signal);
    await abortable(
      consumer.subscribe({ topics: [repartition, changelog], fromBeginning: true }),
      signal,
    );
    await abortable(
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, isStale, resolveOffset }) => {
          const { topic, partition, messages } = batch;
          if (this.#consumer !== consumer || isStale()) return;
          if (!this.#reading.has(readingKey(topic, partition))) {
            this.#unreadBatches++;
            return;
          }
          const last = messages[messages.length - 1];
          if (last === undefined) return;
          this.#events.records(topic, partition, messages);
          resolveOffset(last.offset);
        },
      }),
      signal,
    );
  }

  /** Starts reading `partition` of `topic` at `offset` (a pending fetch of it is dropped). */
  read(topic: string, partition: number, offset: bigint): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    consumer.pause([{ topic, partitions: [partition] }]);
    consumer.seek({ topic, partition, offset: offset.toString() });
    this.#reading.add(readingKey(topic, partition));
    consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Stops fetching `partition` of `topic` for now; `read` or `resume` continues. */
  pause(topic: string, partition: number): void {
    this.#consumer?.pause([{ topic, partitions: [partition] }]);
  }

  /** Fetches `partition` of `topic` again after `pause`, where it stood. */
  resume(topic: string, partition: number): void {
    if (!this.#reading.has(readingKey(topic, partition))) return;
    this.#consumer?.resume([{ topic, partitions: [partition] }]);
  }

  /** Stops reading `partition` of `topic` (until the next `read`). */
  stop(topic: string, partition: number): void {
    this.#reading.delete(readingKey(topic, partition));
    this.pause(topic, partition);
  }

  /** Leaves the group and disconnects. */
  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#reading.clear();
    if (consumer !== undefined) await closeQuietly(() => consumer.disconnect(), CLOSE_TIMEOUT_MS);
  }
}

function readingKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
