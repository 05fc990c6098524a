import type { Admin, Kafka, KafkaMessage } from "kafkajs";
import { Partitioners } from "kafkajs";
import type { Logger } from "pino";
import {
  closeQuietly,
  type KeyedBatch,
  type KeyedExchange,
  type KeyedRestore,
  SluiceError,
} from "sluice/connector";
import type { KafkaClientConfig } from "../client-config.js";
import { createKafkaClient, protocolErrorType, rootMessage } from "../kafka-client.js";
import { partitionKey } from "../topic-partition.js";
import { BatchAssembler, type ExchangeRecord } from "./batch-assembler.js";
import {
  type ChangelogEntry,
  decodeChangelogEntry,
  encodeChangelogEntry,
} from "./changelog-entry.js";
import { changelogCommit, joinParts, partsOf } from "./changelog-parts.js";
import { ChangelogReader } from "./changelog-reader.js";
import { KeyedConsumer } from "./keyed-consumer.js";
import { KeyedPartitionTask } from "./keyed-partition-task.js";
import { ensureKeyedTopics, type KeyedTopics } from "./keyed-topics.js";
import { MapSideWriter } from "./map-side-writer.js";
import { parseRepartitionRecord } from "./repartition-records.js";

/**
 * The keyed exchange's counters, read with `exchange.metrics`.
 *
 * @example
 * const { batches, commits } = exchange.metrics;
 */
export interface KafkaKeyedExchangeMetrics {
  /** Keyed partitions restored in this process. */
  readonly restores: number;
  /** Complete batches handed out. */
  readonly batches: number;
  /** Keyed partition states committed to the changelog. */
  readonly commits: number;
  /** Fetched repartition or changelog batches dropped because their partition was not being read. */
  readonly unreadBatches: number;
}

/** What a Kafka keyed exchange needs to know. */
export interface KafkaKeyedExchangeSettings {
  /** How to reach the cluster's Kafka (the membership's brokers, TLS and SASL). */
  readonly client: KafkaClientConfig;
  /** The job's group: the topics are `<group>.sluice-*`. */
  readonly group: string;
  /** The job's keyed partitions. */
  readonly partitions: number;
  /** The Kafka source's transactional id (this process's); the map side writes under it. */
  readonly transactionalId: string;
  /** The job's input: every partition of these topics must pass a batch for it to complete. */
  readonly inputTopics: { readonly topics?: readonly string[]; readonly topicPattern?: string };
  /** The input partitions this process's source owns now, `"<topic>-<partition>"`. */
  readonly ownedInputs: () => readonly string[];
  /** How long the broker keeps a dead writer's transaction open (default 60 000). */
  readonly transactionTimeoutMs?: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxWaitTimeMs: number;
  /** Repartition records held per keyed partition before its fetching pauses (default 10 000). */
  readonly maxBufferedRecords?: number;
}

const CLOSE_TIMEOUT_MS = 10_000;
/** How often a keyed partition's owner deletes the repartition records it has committed past. */
const PURGE_INTERVAL_MS = 30_000;

/**
 * The keyed exchange over Kafka (see `KeyedExchange`). Map side: each batch's chunks and a
 * marker per owned input partition go into every keyed partition of `<group>.sluice-repartition`
 * in the Kafka source's transaction, which commits with the batch's input offsets. Keyed side:
 * the group `<group>.sluice-keyed` shares the keyed partitions among the processes; a partition's
 * owner restores it from `<group>.sluice-changelog` (compacted, one record per partition: the
 * task state and the exchange's bookkeeping), reads its repartition records `read_committed`
 * from the position the changelog gives, cuts them into complete batches (BatchAssembler) and
 * commits each batch's state in a transaction of its own producer `<group>.sluice-keyed-<r>`.
 *
 * @example
 * const exchange = new KafkaKeyedExchange(settings, logger);
 * await exchange.start(signal);
 * membership.offerKeyedExchange(exchange);
 */
export class KafkaKeyedExchange implements KeyedExchange {
  readonly partitions: number;
  readonly #settings: KafkaKeyedExchangeSettings;
  readonly #logger: Logger;
  readonly #kafka: Kafka;
  readonly #writer: MapSideWriter;
  #admin: Admin | undefined;
  #topics: KeyedTopics | undefined;
  #consumer: KeyedConsumer | undefined;
  #inputs: readonly string[] = [];
  #owned: readonly number[] | undefined;
  /** Counts assignments: a restore begun in an earlier one is void. */
  #generation = 0;
  readonly #listeners = new Set<(partitions: readonly number[]) => void>();
  readonly #tasks = new Map<number, KeyedPartitionTask>();
  /** Counts the restores of each keyed partition: only the latest one may install its task. */
  readonly #restores = new Map<number, number>();
  #changelog: ChangelogReader | undefined;
  /** When each keyed partition's consumed repartition records were last deleted. */
  readonly #purgedAt = new Map<number, number>();
  readonly #counters = { restores: 0, batches: 0, commits: 0 };
  #failure: Error | undefined;
  #started: Promise<void> | undefined;
  #closed = false;

  constructor(settings: KafkaKeyedExchangeSettings, logger: Logger, kafka?: Kafka) {
    this.partitions = settings.partitions;
    this.#settings = settings;
    this.#logger = logger;
    this.#kafka = kafka ?? createKafkaClient(settings.client, logger);
    this.#writer = new MapSideWriter(
      this.#kafka,
      {
        transactionalId: settings.transactionalId,
        repartitionTopic: `${settings.group}.sluice-repartition`,
        partitions: settings.partitions,
        transactionTimeoutMs: settings.transactionTimeoutMs ?? 60_000,
        ownedInputs: settings.ownedInputs,
      },
      logger,
    );
  }

  /** The exchange's counters (a snapshot). */
  get metrics(): KafkaKeyedExchangeMetrics {
    return { ...this.#counters, unreadBatches: this.#consumer?.unreadBatches ?? 0 };
  }

  /** The job's input partitions, `"<topic>-<partition>"` (known once started). */
  get inputs(): readonly string[] {
    return this.#inputs;
  }

  /**
   * Creates the topics when missing (refusing ones with another partition count), pairs the map
   * side with the source's transactional id and joins the keyed group. Once is enough; later
   * calls wait for the first.
   */
  start(signal: AbortSignal): Promise<void> {
    if (this.#started === undefined) {
      const started = this.#start(signal);
      this.#started = started;
      // A failed start is tried again by the next call (the source's next connect).
      started.catch(() => {
        if (this.#started === started) this.#started = undefined;
      });
    }
    return this.#started;
  }

  async write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void> {
    return this.#writer.write(time, chunks);
  }

  onAssignment(listener: (partitions: readonly number[]) => void): () => void {
    this.#listeners.add(listener);
    if (this.#owned !== undefined) listener(this.#owned);
    return () => this.#listeners.delete(listener);
  }

  async restore(partition: number): Promise<KeyedRestore | undefined> {
    const { topics, consumer } = this.#running();
    this.#assertOwned(partition);
    const generation = this.#generation;
    // The latest restore of a partition wins; an earlier one still under way gives up.
    const attempt = (this.#restores.get(partition) ?? 0) + 1;
    this.#restores.set(partition, attempt);
    this.#tasks.get(partition)?.end(this.#revoked(partition, "was restored again"));
    this.#tasks.delete(partition);
    consumer.stop(topics.repartition, partition);
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: `${this.#settings.group}.sluice-keyed-${partition}`,
      transactionTimeout: this.#settings.transactionTimeoutMs ?? 60_000,
    });
    let task: KeyedPartitionTask | undefined;
    try {
      await producer.connect();
      // Initialising the transactional id fences every earlier owner's producer and aborts its
      // open transaction, so the changelog read next is final.
      const transaction = await producer.transaction();
      const entry = await this.#readChangelog(partition, generation);
      if (generation !== this.#generation || this.#restores.get(partition) !== attempt) {
        await transaction.abort().catch(() => undefined);
        throw this.#revoked(partition, "was revoked or restored again while it was restored");
      }
      task = new KeyedPartitionTask(
        partition,
        new BatchAssembler(this.#inputs, entry?.assembly),
        producer,
        transaction,
        this.#settings.maxBufferedRecords ?? 10_000,
      );
      task.changelogParts = entry?.parts ?? 0;
      this.#tasks.set(partition, task);
      const start =
        task.assembler.position ?? (await this.#lowWatermark(topics.repartition, partition));
      consumer.read(topics.repartition, partition, start);
      this.#counters.restores++;
      return entry === undefined ? undefined : { time: entry.time, state: entry.state };
    } catch (error) {
      if (task === undefined) await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
      if (error instanceof SluiceError || (error as Error | null)?.name === "AbortError") {
        throw error;
      }
      throw new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `Restoring keyed partition ${partition} from "${topics.changelog}" failed: ${rootMessage(error)}.`,
        { cause: error },
      );
    }
  }

  async nextBatch(partition: number, signal: AbortSignal): Promise<KeyedBatch> {
    const task = this.#tasks.get(partition);
    if (task === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `KeyedExchange.nextBatch(${partition}): the keyed partition is not restored in this process; call restore(${partition}) after it was assigned.`,
      );
    }
    const { topics, consumer } = this.#running();
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      if (this.#failure !== undefined) throw this.#failure;
      if (task.ended !== undefined) throw task.ended;
      const batch = task.next();
      if (!task.full) consumer.resume(topics.repartition, partition);
      if (batch !== undefined) {
        this.#counters.batches++;
        return { partition, time: batch.time, chunks: batch.chunks };
      }
      await task.wakeup.wait(signal);
    }
  }

  async commit(partition: number, time: number, state: Uint8Array): Promise<void> {
    const task = this.#tasks.get(partition);
    // A commit needs only the task's producer: a process that lost its group (a stalled one)
    // still commits, and is fenced by the next owner's restore.
    if (this.#closed) throw closedError();
    const topics = this.#topics;
    if (topics === undefined || task === undefined || task.ended !== undefined) {
      throw (
        task?.ended ??
        new SluiceError(
          "SLUICE_ILLEGAL_STATE",
          `KeyedExchange.commit(${partition}, ${time}): the keyed partition is not restored in this process.`,
        )
      );
    }
    const assembly = task.snapshotFor(time);
    if (assembly === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `KeyedExchange.commit(${partition}, ${time}): batch ${time} of keyed partition ${partition} was not handed out by nextBatch since the last restore.`,
      );
    }
    const entry: ChangelogEntry = { time, state, assembly };
    const value = encodeChangelogEntry(entry);
    const run = task.commits.then(async () => {
      // Computed in turn: the parts an earlier commit left are known once it is done.
      const commit = changelogCommit(partition, value, task.changelogParts);
      let transaction = task.transaction;
      task.transaction = undefined;
      try {
        transaction ??= await task.producer.transaction();
        // One send per record: a send's records travel in one batch, which must stay under
        // the topic's max.message.bytes.
        for (const { key, value: recordValue } of commit.records) {
          await transaction.send({
            topic: topics.changelog,
            acks: -1,
            messages: [{ partition, key, value: recordValue }],
          });
        }
        await transaction.commit();
        task.changelogParts = commit.parts;
      } catch (error) {
        await transaction?.abort().catch(() => undefined);
        const fenced = ["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"].includes(
          protocolErrorType(error) ?? "",
        );
        throw new SluiceError(
          "SLUICE_CONNECTOR_IO",
          fenced
            ? `Committing batch ${time} of keyed partition ${partition} was refused: another process restored the partition since (this process's producer "${this.#settings.group}.sluice-keyed-${partition}" was fenced). Its state is not committed here; the new owner continues from the last commit.`
            : `Committing batch ${time} of keyed partition ${partition} to "${topics.changelog}" failed: ${rootMessage(error)}. The state was not committed; restore the partition to continue from the last commit.`,
          { cause: error },
        );
      }
      this.#counters.commits++;
      this.#purge(topics.repartition, partition, assembly.position);
    });
    task.commits = run.catch(() => undefined);
    return run;
  }

  /**
   * Leaves the keyed group without closing anything else, as a process whose session expired
   * looks to the others: its partitions move, its producers stay (and are fenced by the next
   * owner's restore).
   */
  async leaveGroup(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#started?.catch(() => undefined);
    for (const task of this.#tasks.values()) task.end(closedError());
    const producers = [...this.#tasks.values()].map((task) => task.producer);
    this.#tasks.clear();
    this.#changelog?.cancelAll(() => closedError());
    await this.#writer.close();
    await this.#consumer?.close();
    this.#consumer = undefined;
    for (const producer of producers) {
      await closeQuietly(() => producer.disconnect(), CLOSE_TIMEOUT_MS);
    }
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
  }

  async #start(signal: AbortSignal): Promise<void> {
    const admin = this.#kafka.admin();
    this.#admin = admin;
    try {
      await admin.connect();
      const topics = await ensureKeyedTopics(admin, this.#settings.group, this.partitions);
      this.#topics = topics;
      this.#inputs = await this.#inputPartitions(admin);
      await this.#writer.connect();
      const settings = this.#settings;
      const consumer = new KeyedConsumer(
        this.#kafka,
        {
          groupId: `${settings.group}.sluice-keyed`,
          topics,
          sessionTimeoutMs: settings.sessionTimeoutMs,
          heartbeatIntervalMs: settings.heartbeatIntervalMs,
          rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
          maxWaitTimeMs: settings.maxWaitTimeMs,
        },
        {
          assigned: (partitions) => this.#assigned(partitions),
          records: (topic, partition, messages) => this.#records(topic, partition, messages),
          progressed: (topic, partition, lastOffset) =>
            this.#progressed(topic, partition, lastOffset),
          failed: (error) =>
            this.#fail(
              new SluiceError(
                "SLUICE_CONNECTOR_IO",
                `The keyed exchange's consumer of group "${settings.group}.sluice-keyed" failed: ${rootMessage(error)}. Restart the process; keyed partitions continue from their last commit.`,
                { cause: error },
              ),
            ),
        },
        this.#logger,
      );
      this.#consumer = consumer;
      this.#changelog = new ChangelogReader(consumer, admin, topics.changelog);
      await consumer.start(signal);
    } catch (error) {
      const consumer = this.#consumer;
      this.#consumer = undefined;
      this.#changelog = undefined;
      this.#admin = undefined;
      await consumer?.close();
      await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
      if (error instanceof SluiceError) throw error;
      if (signal.aborted) throw signal.reason;
      throw new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `Starting the keyed exchange of cluster group "${this.#settings.group}" at ${this.#settings.client.brokers.join(", ")} failed: ${rootMessage(error)}. The processes need to create, read and write the topics "${this.#settings.group}.sluice-repartition" and "${this.#settings.group}.sluice-changelog", the group "${this.#settings.group}.sluice-keyed" and the transactional ids "${this.#settings.group}.sluice-keyed-*".`,
        { cause: error },
      );
    }
  }

  async #inputPartitions(admin: Admin): Promise<string[]> {
    const { topics, topicPattern } = this.#settings.inputTopics;
    const pattern = topicPattern === undefined ? undefined : new RegExp(topicPattern);
    const names = topics ?? (await admin.listTopics()).filter((name) => pattern?.test(name));
    const metadata = await admin.fetchTopicMetadata({ topics: [...names] });
    return metadata.topics
      .flatMap(({ name, partitions }) => partitions.map((p) => partitionKey(name, p.partitionId)))
      .sort();
  }

  #assigned(partitions: readonly number[]): void {
    this.#generation++;
    for (const [partition, task] of this.#tasks) {
      task.end(this.#revoked(partition, "was revoked by a rebalance of the keyed group"));
    }
    this.#tasks.clear();
    this.#changelog?.cancelAll((partition) =>
      this.#revoked(partition, "was revoked while it was restored"),
    );
    this.#owned = partitions;
    this.#logger.info({ partitions }, "keyed partitions assigned");
    for (const listener of [...this.#listeners]) {
      try {
        listener(partitions);
      } catch (error) {
        // Called from the consumer's group events: a listener's failure must not stop them.
        this.#logger.warn({ err: error }, "a keyed assignment listener failed");
      }
    }
  }

  #records(topic: string, partition: number, messages: readonly KafkaMessage[]): void {
    const topics = this.#topics;
    if (topics === undefined) return;
    if (topic === topics.changelog) {
      this.#changelog?.records(partition, messages);
      return;
    }
    const task = this.#tasks.get(partition);
    if (task === undefined || task.ended !== undefined) return;
    let records: ExchangeRecord[];
    try {
      const where = `"${topic}" partition ${partition}`;
      records = messages.map((message) => parseRepartitionRecord(message, where));
    } catch (error) {
      task.end(error as Error);
      return;
    }
    task.receive(records);
    if (task.full) this.#consumer?.pause(topic, partition);
  }

  #progressed(topic: string, partition: number, lastOffset: bigint): void {
    if (topic === this.#topics?.changelog) this.#changelog?.progressed(partition, lastOffset);
  }

  // The last committed changelog entry of `partition`, and the parts it was written in.
  async #readChangelog(
    partition: number,
    generation: number,
  ): Promise<(ChangelogEntry & { parts: number }) | undefined> {
    const changelog = this.#changelog as ChangelogReader;
    const value = await changelog.last(partition, () =>
      this.#revoked(partition, "was restored again while it was restored"),
    );
    if (generation !== this.#generation) {
      throw this.#revoked(partition, "was revoked while it was restored");
    }
    if (value === undefined) return undefined;
    const where = `"${changelog.topic}" partition ${partition}`;
    const parts = partsOf(value.value);
    const whole =
      parts === 0
        ? value.value
        : joinParts(
            value.value,
            await changelog.range(partition, value.offset - BigInt(parts), value.offset),
            where,
          );
    if (generation !== this.#generation) {
      throw this.#revoked(partition, "was revoked while it was restored");
    }
    return { ...decodeChangelogEntry(whole, where), parts };
  }

  async #lowWatermark(topic: string, partition: number): Promise<bigint> {
    const offsets = await (this.#admin as Admin).fetchTopicOffsets(topic);
    return BigInt(offsets.find((entry) => entry.partition === partition)?.low ?? "0");
  }

  // The repartition records before a committed position are never read again (the changelog
  // keeps the chunks read ahead), so they are deleted, at most once per PURGE_INTERVAL_MS per
  // partition; the topic keeps records until then (retention.ms -1).
  #purge(topic: string, partition: number, position: bigint | undefined): void {
    const now = Date.now();
    const admin = this.#admin;
    if (position === undefined || admin === undefined) return;
    if (now - (this.#purgedAt.get(partition) ?? 0) < PURGE_INTERVAL_MS) return;
    this.#purgedAt.set(partition, now);
    admin
      .deleteTopicRecords({ topic, partitions: [{ partition, offset: position.toString() }] })
      .catch((error: unknown) => {
        this.#logger.warn(
          { err: error, topic, partition },
          "deleting consumed repartition records failed; retried after the next commit",
        );
        this.#purgedAt.delete(partition);
      });
  }

  #running(): { topics: KeyedTopics; consumer: KeyedConsumer } {
    if (this.#closed) throw closedError();
    if (this.#failure !== undefined) throw this.#failure;
    const topics = this.#topics;
    const consumer = this.#consumer;
    if (topics === undefined || consumer === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "the keyed exchange is not started (or left its group); call start() first",
      );
    }
    return { topics, consumer };
  }

  #assertOwned(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `keyed partition ${partition} does not exist: the exchange has partitions 0 to ${this.partitions - 1}.`,
      );
    }
    if (!this.#owned?.includes(partition)) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `keyed partition ${partition} is not assigned to this process (it owns ${this.#owned?.join(", ") || "none"}); restore only the partitions onAssignment reports.`,
      );
    }
  }

  // The work of a partition this process no longer runs is not wanted any more: an AbortError,
  // like the one the core's own signal gives when it drops the task.
  #revoked(partition: number, what: string): Error {
    return new DOMException(`keyed partition ${partition} ${what}`, "AbortError");
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const task of this.#tasks.values()) task.wakeup.notify();
    this.#changelog?.cancelAll(() => error);
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException("the keyed partition's batch was no longer wanted", "AbortError");
}

function closedError(): SluiceError {
  return new SluiceError("SLUICE_CONNECTOR_CLOSED", "the keyed exchange was closed");
}
