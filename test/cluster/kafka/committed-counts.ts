// Reads what the cluster committed to its output topic: a read_committed consumer of its own
// group from the beginning, summing the JSON [word, count] values of every batch, each record
// once by its offset. It skips aborted transactions as the connector's consumers do: kafkajs
// alone reads some of them when several processes' transactions interleave in a partition.
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { readAbortedTransactionsCorrectly } from "../../../connectors/kafka/src/read-committed.js";

/** The sum per word of every committed output record, kept up to date while it runs. */
export class CommittedCounts {
  readonly totals = new Map<string, number>();
  /** Every record read: value, partition and offset (for failure reports). */
  readonly log: string[] = [];
  #records = 0;
  readonly #next = new Map<number, bigint>();
  readonly #consumer: Consumer;

  constructor(
    brokers: readonly string[],
    readonly topic: string,
  ) {
    readAbortedTransactionsCorrectly();
    const kafka = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING });
    this.#consumer = kafka.consumer({
      groupId: `${topic}-reader-${process.pid}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
  }

  /** Output records read so far (one per word per batch). */
  get records(): number {
    return this.#records;
  }

  /** The sum of all counts read so far. */
  get words(): number {
    let sum = 0;
    for (const count of this.totals.values()) sum += count;
    return sum;
  }

  async start(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => {
        // This reader may itself rejoin its group and be handed records again: a record is
        // counted once per offset (a duplicate output would have an offset of its own).
        const offset = BigInt(message.offset);
        const next = this.#next.get(partition) ?? 0n;
        if (offset < next) return;
        this.#next.set(partition, offset + 1n);
        const [word, count] = JSON.parse(message.value?.toString() ?? "null") as [string, number];
        this.totals.set(word, (this.totals.get(word) ?? 0) + count);
        this.log.push(`${partition}@${message.offset} ${message.value?.toString() ?? ""}`);
        this.#records++;
      },
    });
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect();
  }
}
