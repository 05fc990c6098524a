import type { Admin, Kafka, Producer } from "kafkajs";
import { closeQuietly } from "sluice/connector";
import type { ConsumedOffset } from "./transaction-link.js";

/** The fence record a paired commit writes inside its transaction (cluster mode). */
export interface FenceRecord {
  readonly topic: string;
  readonly value: Buffer;
}

const CLOSE_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

/**
 * Makes a partition's hand-over safe without KIP-447 (kafkajs commits transactional offsets
 * without the group's generation and reads committed offsets without `require_stable`): every
 * paired commit of the group also writes one record to the group's fence topic inside its
 * transaction, so while any commit is under way the topic's last stable offset stays below that
 * record. After an assignment, a process writes a marker of its own and waits until the last
 * stable offset passes it: every commit begun before then has committed or aborted, and the
 * group's committed offsets it then reads are final.
 *
 * @example
 * const fence = new ClusterFence(kafka, "word-count.sluice-fence");
 * await fence.ensureTopic();
 * await fence.awaitCommitsSettled(signal);
 * const offsets = await fence.committedOffsets("word-count", ["lines"]);
 */
export class ClusterFence {
  readonly topic: string;
  readonly #kafka: Pick<Kafka, "admin" | "producer">;
  #admin: Admin | undefined;
  #producer: Producer | undefined;

  constructor(kafka: Pick<Kafka, "admin" | "producer">, topic: string) {
    this.#kafka = kafka;
    this.topic = topic;
  }

  /** The record a commit writes in its transaction. */
  record(processId: string): FenceRecord {
    return { topic: this.topic, value: Buffer.from(processId) };
  }

  /** Creates the fence topic (one partition) unless it exists. */
  async ensureTopic(): Promise<void> {
    const admin = await this.#connectedAdmin();
    const existing = await admin.listTopics();
    if (existing.includes(this.topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: this.topic,
          numPartitions: 1,
          configEntries: [{ name: "retention.ms", value: String(60 * 60 * 1000) }],
        },
      ],
    });
  }

  /**
   * Resolves once every transaction that wrote to the fence topic before this call has
   * committed or aborted (a killed process's open transaction: once the broker aborted it,
   * after its transaction timeout).
   */
  async awaitCommitsSettled(signal: AbortSignal): Promise<void> {
    const producer = await this.#connectedProducer();
    const [written] = await producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ value: Buffer.from("marker") }],
    });
    const marker = BigInt(written?.baseOffset ?? "0");
    const admin = await this.#connectedAdmin();
    for (;;) {
      signal.throwIfAborted();
      // Read committed: the offset given is the last stable offset.
      const [stable] = await admin.fetchTopicOffsets(this.topic);
      if (stable !== undefined && BigInt(stable.offset) > marker) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** The group's committed offsets of `topics` (the next record to read), by partition key. */
  async committedOffsets(groupId: string, topics: readonly string[]): Promise<ConsumedOffset[]> {
    const admin = await this.#connectedAdmin();
    const found: ConsumedOffset[] = [];
    for (const { topic, partitions } of await admin.fetchOffsets({
      groupId,
      topics: [...topics],
    })) {
      for (const { partition, offset } of partitions) {
        if (offset !== "-1") found.push({ topic, partition, offset: BigInt(offset) });
      }
    }
    return found;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    const producer = this.#producer;
    this.#admin = undefined;
    this.#producer = undefined;
    if (admin !== undefined) await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
    if (producer !== undefined) await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
  }

  async #connectedAdmin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.#kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #connectedProducer(): Promise<Producer> {
    if (this.#producer === undefined) {
      const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.#producer = producer;
    }
    return this.#producer;
  }
}
