// A kafkajs client without a broker, for the source's unit tests: the consumer joins at `run`
// with a fixed assignment, and the test pushes fetched batches through `eachBatch` itself, as
// kafkajs's fetch loop would (including for a partition paused after its batch was fetched).
import type { Consumer, EachBatchPayload, Kafka, TopicPartitions } from "kafkajs";
import pino from "pino";
import { validateConfig } from "sluice";
import type { KafkaClientFactory, KafkaSourceCluster } from "../src/kafka-source.js";
import { KafkaSource } from "../src/kafka-source.js";
import { type KafkaSourceConfig, kafkaSourceConfig } from "../src/source-config.js";

type Listener = (event: { payload: unknown }) => void;

/**
 * The consumer part of kafkajs the source uses: joins, pause and resume per partition, seeks,
 * commits; `deliver` plays a fetched batch.
 *
 * @example
 * const consumer = new FakeConsumer({ orders: [0, 1] });
 * await consumer.deliver("orders", 0, [0, 1, 2], 10);
 */
export class FakeConsumer {
  readonly events = {
    GROUP_JOIN: "consumer.group_join",
    FETCH: "consumer.fetch",
    CRASH: "consumer.crash",
    HEARTBEAT: "consumer.heartbeat",
    REBALANCING: "consumer.rebalancing",
    REQUEST: "consumer.network.request",
  } as const;
  /** Partitions paused now, as `"<topic>-<partition>"`. */
  readonly paused = new Set<string>();
  /** Every `pause`/`resume` call, in order, as `"pause orders-0"` / `"resume orders-0"`. */
  readonly pauseCalls: string[] = [];
  readonly #listeners = new Map<string, Listener[]>();
  readonly #assignment: Record<string, number[]>;
  #eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;

  constructor(assignment: Record<string, number[]>) {
    this.#assignment = assignment;
  }

  on(event: string, listener: Listener): () => void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return () => undefined;
  }

  async connect(): Promise<void> {}

  async subscribe(): Promise<void> {}

  async run(options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.#eachBatch = options.eachBatch;
    this.emit(this.events.GROUP_JOIN, { memberId: "member-1", memberAssignment: this.#assignment });
    this.emit(this.events.FETCH, {});
  }

  pause(topics: TopicPartitions[]): void {
    for (const key of keysOf(topics)) {
      this.paused.add(key);
      this.pauseCalls.push(`pause ${key}`);
    }
  }

  resume(topics: TopicPartitions[]): void {
    for (const key of keysOf(topics)) {
      this.paused.delete(key);
      this.pauseCalls.push(`resume ${key}`);
    }
  }

  seek(): void {}

  async commitOffsets(): Promise<void> {}

  async disconnect(): Promise<void> {}

  /** Plays a fetched batch of `offsets` (values `"<topic>-<partition>@<offset>"`). */
  async deliver(
    topic: string,
    partition: number,
    offsets: readonly number[],
    highWatermark: number,
  ): Promise<void> {
    const eachBatch = this.#eachBatch;
    if (eachBatch === undefined) throw new Error("deliver() before run()");
    const messages = offsets.map((offset) => ({
      key: null,
      value: Buffer.from(`${topic}-${partition}@${offset}`),
      timestamp: "0",
      attributes: 0,
      offset: String(offset),
      headers: {},
    }));
    const payload = {
      batch: { topic, partition, highWatermark: String(highWatermark), messages },
      isStale: () => false,
      resolveOffset: () => undefined,
      // kafkajs sends none when one went out within the heartbeat interval (by default).
      heartbeat: () => this.sendHeartbeat(),
    };
    await eachBatch(payload as unknown as EachBatchPayload);
  }

  /**
   * The heartbeat function of every fetched batch: by default sends none, as kafkajs does
   * within the heartbeat interval of its last answer; a test replaces it to answer one.
   */
  sendHeartbeat: () => Promise<void> = async () => undefined;

  /** Emits a kafkajs consumer event (`events`) to the listeners. */
  emit(event: string, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener({ payload });
  }
}

function keysOf(topics: readonly TopicPartitions[]): string[] {
  return topics.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`));
}

/**
 * The kafkajs client of a cluster-mode source's fence (cluster-fence.ts) without a broker: the
 * fence topic exists, no transaction is ever open on it (every marker is stable at once), and
 * the group has no committed offsets.
 *
 * @example
 * const cluster = { membership, connectorId: "kafka-1", fenceClient: fakeFenceClient() };
 */
export function fakeFenceClient(): Pick<Kafka, "admin" | "producer"> {
  let written = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => ["unit.sluice-fence"],
    createTopics: async () => true,
    fetchTopicOffsets: async () => [{ partition: 0, offset: String(written) }],
    fetchOffsets: async () => [],
  };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async () => [{ baseOffset: String(written++) }],
  };
  return { admin: () => admin, producer: () => producer } as unknown as Pick<
    Kafka,
    "admin" | "producer"
  >;
}

/** Partitions of every topic of the fake cluster (partitions above were added while it ran). */
export const FAKE_TOPIC_PARTITIONS = 16;

/**
 * The admin of a fake cluster whose every topic has `FAKE_TOPIC_PARTITIONS` partitions: what a
 * source with startFrom "latest" looks up at connect.
 *
 * @example
 * const factory = () => ({ consumer: () => consumer, admin: () => fakeAdmin() });
 */
export function fakeAdmin() {
  const partitions = Array.from({ length: FAKE_TOPIC_PARTITIONS }, (_, partitionId) => ({
    partitionId,
  }));
  return {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [] as string[],
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({ name, partitions })),
    }),
    // Nothing committed, every partition empty: partitions start at 0.
    fetchOffsets: async ({ topics }: { topics: string[] }) =>
      topics.map((topic) => ({
        topic,
        partitions: partitions.map(({ partitionId }) => ({ partition: partitionId, offset: "-1" })),
      })),
    fetchTopicOffsets: async () =>
      partitions.map(({ partitionId }) => ({ partition: partitionId, low: "0", high: "0" })),
  };
}

/**
 * A connected `KafkaSource` over a `FakeConsumer` holding `assignment`; `config` overrides the
 * defaults (brokers, topics and groupId "unit" are filled in); `cluster` runs it in cluster mode.
 *
 * @example
 * const { source, consumer } = await fakeKafkaSource({ orders: [0, 1] });
 */
export async function fakeKafkaSource(
  assignment: Record<string, number[]>,
  config: Record<string, unknown> = {},
  cluster?: KafkaSourceCluster,
): Promise<{ source: KafkaSource; consumer: FakeConsumer }> {
  const consumer = new FakeConsumer(assignment);
  const parsed: KafkaSourceConfig = validateConfig(
    kafkaSourceConfig,
    {
      brokers: ["127.0.0.1:9"],
      topics: Object.keys(assignment),
      groupId: "unit",
      pollTimeoutMs: 10,
      // Partitions start as the fake delivers them; with "latest" the source would look up and
      // commit where new partitions start, holding them meanwhile (tested on the broker).
      startFrom: "earliest",
      ...config,
    },
    "source",
  );
  const admin = fakeAdmin();
  const factory: KafkaClientFactory = () =>
    ({ consumer: () => consumer as unknown as Consumer, admin: () => admin }) as unknown as Pick<
      Kafka,
      "consumer" | "admin"
    >;
  const source = new KafkaSource(parsed, pino({ level: "silent" }), new Map(), factory, cluster);
  await source.connect(AbortSignal.timeout(5_000));
  return { source, consumer };
}
