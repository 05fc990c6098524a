import type {
  Consumer,
  ConsumerCrashEvent,
  ConsumerGroupJoinEvent,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
} from "kafkajs";
import type { Logger } from "pino";
import {
  abortable,
  closeQuietly,
  NotConnectedError,
  type ReadOptions,
  type ReadResult,
  type RecordHeaders,
  readResult,
  type SeekOptions,
  SluiceError,
  type Source,
  type SourceRecord,
  Wakeup,
  withTimeout,
} from "sluice";
import {
  createKafkaClient,
  isConnectionProblem,
  protocolErrorType,
  rootMessage,
  unreachableMessage,
} from "./kafka-client.js";
import { type HeldRecord, PartitionState } from "./partition-state.js";
import type { KafkaSourceConfig } from "./source-config.js";
import { parseOffset, parsePartitionKey, partitionKey } from "./topic-partition.js";
import { attachSource, type ConsumedOffset, linkedSink } from "./transaction-link.js";

/**
 * The Kafka source's counters, read with `source.metrics` (a snapshot).
 *
 * @example
 * const { recordsIn, commits } = source.metrics;
 */
export interface KafkaSourceMetrics {
  /** Records handed to Sluice (a redelivered record counts again). */
  readonly recordsIn: number;
  /** Bytes of values and keys handed to Sluice. */
  readonly bytesIn: number;
  readonly acks: number;
  readonly nacks: number;
  /** Offset commits that succeeded (consumer commits, or transactions of a paired sink). */
  readonly commits: number;
  /** Offset commits that failed (retried with the next acknowledgement or rebalance). */
  readonly commitErrors: number;
  /** Partition assignments received (the first one included). */
  readonly rebalances: number;
  /** Times kafkajs restarted the consumer after losing the brokers. */
  readonly restarts: number;
  /** Failures reported to Sluice (lost connection, fatal errors). */
  readonly errors: number;
  /** Now: records fetched and held, not yet handed out (nacked ones included). */
  readonly bufferedRecords: number;
  /** Now: partitions whose fetching is paused (buffer full, or the source paused). */
  readonly pausedPartitions: number;
}

type Counters = {
  -readonly [K in Exclude<
    keyof KafkaSourceMetrics,
    "bufferedRecords" | "pausedPartitions"
  >]: number;
};

/** One partition's share of a read. */
interface ReadPart {
  readonly state: PartitionState;
  readonly records: HeldRecord[];
}

/**
 * Builds the kafkajs client the source consumes with (the default connects to `config.brokers`).
 *
 * @example
 * const factory: KafkaClientFactory = (config, logger) => createKafkaClient(config, logger);
 */
export type KafkaClientFactory = (
  config: KafkaSourceConfig,
  logger: Logger,
) => Pick<Kafka, "consumer" | "admin">;

const EMPTY = new Uint8Array(0);
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Reads a Kafka consumer group's partitions. Offsets belong to Sluice: auto-commit is off, and
 * a read's offsets are committed to Kafka only when Sluice acknowledges it (after the batch
 * holding it was output and checkpointed). kafkajs pushes fetched batches; the source buffers
 * them per partition (pausing a partition whose buffer is full) and hands them out on `read`.
 *
 * Rebalances: a revoked partition's buffered records and unacknowledged reads are dropped
 * (their late acknowledgement commits nothing), and whoever gets it next starts from the last
 * committed offset. A partition kept across a rebalance or a reconnect resumes exactly after
 * the last record fetched, so nothing is lost or delivered twice by this source.
 *
 * @example
 * const source = new KafkaSource(config, logger, new Map());
 * await source.connect(signal);
 * const { records, ack } = await source.read(signal);
 * await ack();
 */
export class KafkaSource implements Source {
  readonly #config: KafkaSourceConfig;
  readonly #logger: Logger;
  readonly #createClient: KafkaClientFactory;
  readonly #startOffsets = new Map<string, bigint>();
  readonly #partitions = new Map<string, PartitionState>();
  readonly #wakeup = new Wakeup();
  readonly #counters: Counters = {
    recordsIn: 0,
    bytesIn: 0,
    acks: 0,
    nacks: 0,
    commits: 0,
    commitErrors: 0,
    rebalances: 0,
    restarts: 0,
    errors: 0,
  };
  #consumer: Consumer | undefined;
  #failure: Error | undefined;
  #appliedPauses = new Set<string>();
  #paused = false;
  #closed = false;
  #sequence = 0;
  #cursor = 0;
  #commitChain: Promise<void> = Promise.resolve();
  #pendingLinkedCommit: Promise<void> | undefined;
  #detachLink: (() => void) | undefined;
  #firstRunStartedAtMs: number | undefined;

  /**
   * @param checkpointed offsets Sluice checkpointed on the previous run, per
   *   `"<topic>-<partition>"` (the next record to read); they win over `config.startOffsets`.
   * @param createClient builds the kafkajs client (tests give one without a broker).
   */
  constructor(
    config: KafkaSourceConfig,
    logger: Logger,
    checkpointed: ReadonlyMap<string, string> = new Map(),
    createClient: KafkaClientFactory = createKafkaClient,
  ) {
    this.#config = config;
    this.#logger = logger;
    this.#createClient = createClient;
    for (const [key, offset] of Object.entries(config.startOffsets ?? {})) {
      this.#startOffsets.set(key, parseOffset(offset, `startOffsets["${key}"]`));
    }
    if (config.transactionalId !== undefined && checkpointed.size > 0) {
      // With a paired sink, Kafka's transactional commits are the truth; a checkpoint may be
      // ahead of a transaction that was aborted.
      logger.info(
        { transactionalId: config.transactionalId },
        "ignoring checkpointed offsets: the group's transactionally committed offsets are used",
      );
    } else {
      for (const [key, offset] of checkpointed) {
        parsePartitionKey(key);
        this.#startOffsets.set(key, parseOffset(offset, `checkpointed offset of ${key}`));
      }
    }
  }

  /** A snapshot of the counters. */
  get metrics(): KafkaSourceMetrics {
    let bufferedRecords = 0;
    for (const state of this.#partitions.values()) bufferedRecords += state.buffered;
    return { ...this.#counters, bufferedRecords, pausedPartitions: this.#appliedPauses.size };
  }

  /** The partitions assigned to this source now, as `"<topic>-<partition>"`, sorted. */
  assignment(): string[] {
    return [...this.#partitions.keys()].sort();
  }

  /**
   * Records waiting per assigned partition now: those fetched and held (nacked ones included)
   * plus the partition's lag, its high watermark as the latest fetch of it reported minus the
   * next offset to fetch. No broker round trip: a partition not fetched from since it was
   * assigned shows only what it holds (0 lag).
   *
   * @example
   * source.backlog(); // Map { "orders-0" => 12000, "orders-1" => 300 }
   */
  backlog(): ReadonlyMap<string, number> {
    const backlog = new Map<string, number>();
    for (const [key, state] of this.#partitions) backlog.set(key, state.backlog);
    return backlog;
  }

  /**
   * Sets where partitions start when they are next assigned, overriding the group's committed
   * offsets (the hook for a checkpoint layer that restores after `create`). Takes effect for
   * partitions assigned from now on; call it before `connect`.
   *
   * @example
   * source.setStartOffsets(new Map([["orders-0", "1200"]]));
   */
  setStartOffsets(offsets: ReadonlyMap<string, string>): void {
    for (const [key, offset] of offsets) {
      parsePartitionKey(key);
      this.#startOffsets.set(key, parseOffset(offset, `start offset of ${key}`));
    }
  }

  /**
   * Resumes after a checkpoint: partitions in `offsets` start there (the next record to read,
   * as `SourceRecord.offset` carries it); with `firstRunStartedAtMs` and `startFrom: "latest"`,
   * the other partitions start at their first record stamped at or after that time (they gave
   * no record before the checkpoint), not at their end. Call once, before `connect`. A source
   * paired with a sink by `transactionalId` ignores it: its transactions hold the truth.
   *
   * @example
   * await source.seek(new Map([["orders-0", "1200"]]), { firstRunStartedAtMs: 1_700_000_000_000 });
   */
  async seek(
    offsets: ReadonlyMap<string, string>,
    options: Partial<SeekOptions> = {},
  ): Promise<void> {
    this.#assertOpen();
    if (this.#consumer !== undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "seek() must be called before connect(): the Kafka source is already consuming",
      );
    }
    if (this.#config.transactionalId !== undefined) {
      this.#logger.info("ignoring seek(): the paired sink's transactions hold the offsets");
      return;
    }
    this.setStartOffsets(offsets);
    this.#firstRunStartedAtMs = options.firstRunStartedAtMs;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#consumer !== undefined && this.#failure === undefined) return;
    signal.throwIfAborted();
    if (this.#consumer !== undefined) await this.#teardown();
    this.#failure = undefined;
    const config = this.#config;
    const kafka = this.#createClient(config, this.#logger);
    if (this.#firstRunStartedAtMs !== undefined && config.startFrom === "latest") {
      try {
        await abortable(this.#startAtTime(kafka, this.#firstRunStartedAtMs), signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        this.#counters.errors++;
        throw this.#describeFailure(error, "looking up offsets by time");
      }
      this.#firstRunStartedAtMs = undefined;
    }
    const consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      retry: {
        retries: config.retries,
        initialRetryTime: 100,
        maxRetryTime: 5_000,
        // kafkajs asks only for retriable failures (lost brokers): always restart then.
        restartOnFailure: async () => true,
      },
    });
    // Connected means assigned and positioned: kafkajs looks up where partitions without a
    // committed offset start (startFrom) in its first fetch after the join, so "latest" is
    // the end of the topic when connect resolves, not some later moment.
    let ready: () => void = () => undefined;
    let failed: (error: unknown) => void = () => undefined;
    const readiness = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    // A crash may come before connect awaits readiness; the rejection is read there.
    readiness.catch(() => undefined);
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      if (this.#consumer !== consumer) return;
      joined = true;
      this.#assign(consumer, event.payload.memberAssignment);
    });
    consumer.on(consumer.events.FETCH, () => {
      if (joined) ready();
    });
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (this.#consumer !== consumer) return;
      const { error, restart } = event.payload;
      if (restart) {
        this.#counters.restarts++;
        this.#logger.warn(
          { err: error },
          "the Kafka consumer lost the brokers; kafkajs restarts it and it rejoins the group",
        );
        return;
      }
      this.#counters.errors++;
      this.#failure = this.#describeFailure(error, "consuming");
      failed(this.#failure);
      this.#wakeup.notify();
    });
    this.#consumer = consumer;
    try {
      await abortable(consumer.connect(), signal);
      const topics = config.topics ?? [new RegExp(config.topicPattern ?? "")];
      await abortable(
        consumer.subscribe({ topics, fromBeginning: config.startFrom === "earliest" }),
        signal,
      );
      await abortable(
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 1,
          eachBatch: async (payload) => this.#receive(consumer, payload),
        }),
        signal,
      );
      await abortable(
        withTimeout(readiness, config.joinTimeoutMs, () => {
          return new NotConnectedError(
            `The Kafka consumer did not join group "${config.groupId}" at ${config.brokers.join(", ")} within ${config.joinTimeoutMs} ms; is the group coordinator up? (joinTimeoutMs)`,
          );
        }),
        signal,
      );
    } catch (error) {
      if (this.#consumer === consumer) this.#consumer = undefined;
      await closeQuietly(() => consumer.disconnect(), CLOSE_TIMEOUT_MS);
      if (signal.aborted) throw signal.reason;
      this.#counters.errors++;
      throw this.#describeFailure(error, "connecting");
    }
    if (config.transactionalId !== undefined && this.#detachLink === undefined) {
      const source = this;
      this.#detachLink = attachSource(config.transactionalId, {
        get pendingCommit() {
          return source.#pendingLinkedCommit;
        },
      });
    }
    this.#logger.info(
      { groupId: config.groupId, partitions: this.assignment() },
      "Kafka source connected",
    );
  }

  /**
   * Hands out up to `options.maxRecords` held records (and `maxRecordsPerRead` of the config),
   * at most `options.maxRecordsPerPartition.get(key)` (and the config's
   * `maxRecordsPerPartition`) of each partition, starting one partition further each read so
   * every partition gets its turn. What a limit leaves stays held, in order, for later reads.
   */
  async read(signal: AbortSignal, options: ReadOptions = {}): Promise<ReadResult> {
    this.#assertOpen();
    if (this.#consumer === undefined && this.#failure === undefined) {
      throw new NotConnectedError("the Kafka source is not connected; call connect() first");
    }
    const limits = readLimits(options);
    const deadline = Date.now() + this.#config.pollTimeoutMs;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#paused || this.#closed || signal.aborted) return this.#empty();
      const result = this.#take(limits);
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) return this.#empty();
      await this.#wakeup.wait(signal, left);
    }
  }

  // A read with no records still settles: acknowledging it retries failed commits, and for a
  // paired source commits the sink's transaction (the batch may have written outputs).
  #empty(): ReadResult {
    return readResult([], (error) => this.#settle(0, [], error));
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#syncPauses();
    this.#wakeup.notify();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#syncPauses();
    this.#wakeup.notify();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeup.notify();
    this.#detachLink?.();
    this.#detachLink = undefined;
    await this.#teardown();
    this.#partitions.clear();
  }

  // Start offsets, for the subscribed partitions that have none, at the first record stamped
  // at or after `timeMs` (the end of the partition when there is none).
  async #startAtTime(kafka: Pick<Kafka, "admin">, timeMs: number): Promise<void> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { topics, topicPattern } = this.#config;
      const pattern = topicPattern === undefined ? undefined : new RegExp(topicPattern);
      const names = topics ?? (await admin.listTopics()).filter((name) => pattern?.test(name));
      for (const topic of names) {
        for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(
          topic,
          timeMs,
        )) {
          const key = partitionKey(topic, partition);
          if (!this.#startOffsets.has(key)) this.#startOffsets.set(key, BigInt(offset));
        }
      }
    } finally {
      await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
    }
  }

  // kafkajs pushes a fetched batch of one partition: keep what is new, pause when full.
  async #receive(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isStale, resolveOffset } = payload;
    if (this.#consumer !== consumer || this.#closed || isStale()) return;
    const key = partitionKey(batch.topic, batch.partition);
    const state = this.#partitions.get(key);
    const last = batch.messages[batch.messages.length - 1];
    if (state === undefined || last === undefined) return;
    // Kept even when the partition (or the source) was paused after this batch was fetched:
    // kafkajs delivers a fetched batch regardless, and it is not fetched again.
    state.accept(batch.messages.map((message) => toHeld(key, message)));
    state.highWatermark = BigInt(batch.highWatermark);
    resolveOffset(last.offset);
    this.#syncPauses();
    this.#wakeup.notify();
  }

  // A new assignment (first join, rebalance, or rejoin after a restart).
  #assign(consumer: Consumer, assignment: Record<string, number[]>): void {
    this.#counters.rebalances++;
    const assigned = new Map<string, { topic: string; partition: number }>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        assigned.set(partitionKey(topic, partition), { topic, partition });
      }
    }
    for (const [key, state] of this.#partitions) {
      if (assigned.has(key)) continue;
      // Revoked: whoever gets it next starts from the last committed offset.
      this.#partitions.delete(key);
      this.#logger.info(
        { partition: key, dropped: state.buffered, committed: state.committed?.toString() },
        "partition revoked; its unacknowledged records are dropped",
      );
    }
    for (const [key, { topic, partition }] of assigned) {
      let state = this.#partitions.get(key);
      if (state === undefined) {
        state = new PartitionState(topic, partition);
        this.#partitions.set(key, state);
        const start = this.#startOffsets.get(key);
        if (start !== undefined) {
          this.#startOffsets.delete(key);
          state.nextFetch = start;
        }
      }
      // Resume exactly after what this source already holds, wherever the group's committed
      // offset is (kafkajs would fetch from there again after a rejoin).
      if (state.nextFetch !== undefined) {
        consumer.seek({ topic, partition, offset: state.nextFetch.toString() });
      }
    }
    // Start offsets are for the first assignment only: a partition that comes later was
    // committed by the member that had it.
    this.#startOffsets.clear();
    this.#appliedPauses = new Set();
    this.#syncPauses();
    this.#logger.info({ partitions: [...assigned.keys()] }, "partitions assigned");
    if (this.#config.transactionalId === undefined) void this.#commit();
    this.#wakeup.notify();
  }

  #take(limits: ReadLimits): ReadResult | undefined {
    const entries = [...this.#partitions];
    if (entries.length === 0) return undefined;
    const maxRecords = Math.min(this.#config.maxRecordsPerRead, limits.maxRecords);
    const parts: ReadPart[] = [];
    let total = 0;
    for (let index = 0; index < entries.length && total < maxRecords; index++) {
      const [key, state] = entries[(this.#cursor + index) % entries.length] as [
        string,
        PartitionState,
      ];
      const ofPartition = Math.min(
        this.#config.maxRecordsPerPartition,
        limits.perPartition?.get(key) ?? Number.POSITIVE_INFINITY,
        maxRecords - total,
      );
      const records = state.take(ofPartition);
      if (records.length === 0) continue;
      parts.push({ state, records });
      total += records.length;
    }
    this.#cursor = (this.#cursor + 1) % entries.length;
    if (total === 0) return undefined;
    const sequence = ++this.#sequence;
    const records: SourceRecord[] = [];
    for (const part of parts) {
      part.state.delivered(sequence, part.records);
      for (const held of part.records) {
        records.push(held.record);
        this.#counters.bytesIn += held.record.value.byteLength + (held.record.key?.byteLength ?? 0);
      }
    }
    this.#counters.recordsIn += records.length;
    this.#syncPauses();
    return readResult(records, (error) => this.#settle(sequence, parts, error));
  }

  #settle(sequence: number, parts: readonly ReadPart[], error: unknown): void | Promise<void> {
    const current = parts.filter((part) => this.#partitions.get(partKey(part)) === part.state);
    if (error !== undefined) {
      this.#counters.nacks++;
      for (const part of current) part.state.nacked(sequence, part.records);
      const id = this.#config.transactionalId;
      const sink = id === undefined ? undefined : linkedSink(id);
      if (sink !== undefined) {
        // The batch failed: the outputs the paired sink wrote for it must not commit.
        return sink
          .abortOpen()
          .catch((abortError: unknown) =>
            this.#logger.warn({ err: abortError }, "aborting the paired sink's transaction failed"),
          )
          .finally(() => this.#afterNack());
      }
      this.#afterNack();
      return;
    }
    this.#counters.acks++;
    for (const part of current) part.state.acked(sequence);
    return this.#commit();
  }

  #afterNack(): void {
    this.#syncPauses();
    this.#wakeup.notify();
  }

  // Commits what acknowledgements allow, one commit at a time so a slow one is never
  // overtaken by a later, lower one.
  #commit(): Promise<void> {
    if (this.#config.transactionalId !== undefined) return this.#linkedCommit();
    this.#commitChain = this.#commitChain.then(() => this.#commitNow());
    return this.#commitChain;
  }

  async #commitNow(): Promise<void> {
    const consumer = this.#consumer;
    const targets = this.#commitTargets();
    if (consumer === undefined || targets.length === 0) return;
    try {
      await consumer.commitOffsets(
        targets.map(({ topic, partition, offset }) => ({
          topic,
          partition,
          offset: offset.toString(),
        })),
      );
      this.#markCommitted(targets);
    } catch (error) {
      this.#counters.commitErrors++;
      this.#logger.warn(
        { err: error, offsets: targets.map((t) => `${t.topic}-${t.partition}@${t.offset}`) },
        "committing offsets to Kafka failed; retried with the next acknowledgement or rebalance",
      );
    }
  }

  // Acknowledgements made in one turn of the event loop (Sluice acknowledges every read of a
  // batch together) commit together, in the paired sink's transaction of that batch.
  #linkedCommit(): Promise<void> {
    this.#pendingLinkedCommit ??= new Promise<void>((resolve) => setImmediate(resolve)).then(
      async () => {
        try {
          await this.#linkedCommitNow();
        } finally {
          this.#pendingLinkedCommit = undefined;
        }
      },
    );
    return this.#pendingLinkedCommit;
  }

  async #linkedCommitNow(): Promise<void> {
    const id = this.#config.transactionalId as string;
    const sink = linkedSink(id);
    const targets = this.#commitTargets();
    if (sink === undefined) {
      this.#fail(
        new SluiceError(
          "SLUICE_CONNECTOR_IO",
          `No Kafka sink with transactionalId "${id}" is connected in this process, so the offsets of group "${this.#config.groupId}" cannot be committed with its transaction. Write the stream to a Kafka sink with the same transactionalId, or remove transactionalId from the source.`,
        ),
      );
      return;
    }
    try {
      await sink.commitWithOffsets(this.#config.groupId, targets);
      this.#markCommitted(targets);
    } catch (error) {
      this.#counters.commitErrors++;
      this.#fail(
        new SluiceError(
          "SLUICE_CONNECTOR_IO",
          `The Kafka transaction "${id}" committing the offsets of group "${this.#config.groupId}" failed: ${rootMessage(error)}. Its outputs were rolled back; restart the job to resume from the last committed transaction (nothing is lost or duplicated).`,
          { cause: error },
        ),
      );
    }
  }

  #commitTargets(): ConsumedOffset[] {
    const targets: ConsumedOffset[] = [];
    for (const state of this.#partitions.values()) {
      const offset = state.commitTarget();
      if (offset !== undefined) {
        targets.push({ topic: state.topic, partition: state.partition, offset });
      }
    }
    return targets;
  }

  #markCommitted(targets: readonly ConsumedOffset[]): void {
    if (targets.length > 0) this.#counters.commits++;
    for (const { topic, partition, offset } of targets) {
      const state = this.#partitions.get(partitionKey(topic, partition));
      if (state !== undefined && (state.committed === undefined || offset > state.committed)) {
        state.committed = offset;
      }
    }
  }

  #fail(error: Error): void {
    this.#counters.errors++;
    this.#failure = error;
    this.#wakeup.notify();
  }

  // Pauses the partitions whose buffers are full (all of them while the source is paused) and
  // resumes the others; kafkajs forgets pauses when it rejoins, so this runs after a join too.
  #syncPauses(): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    const wanted = new Set<string>();
    for (const [key, state] of this.#partitions) {
      if (this.#paused || state.fresh >= this.#config.maxBufferedRecordsPerPartition) {
        wanted.add(key);
      }
    }
    const toPause = [...wanted].filter((key) => !this.#appliedPauses.has(key));
    const toResume = [...this.#appliedPauses].filter((key) => !wanted.has(key));
    try {
      if (toPause.length > 0) consumer.pause(toPause.map(asTopicPartitions));
      if (toResume.length > 0) consumer.resume(toResume.map(asTopicPartitions));
      this.#appliedPauses = wanted;
    } catch (error) {
      // Between a crash and the restart kafkajs has no group to pause; the next join re-applies.
      this.#logger.debug({ err: error }, "pausing Kafka partitions deferred to the next join");
    }
  }

  #describeFailure(error: unknown, doing: string): Error {
    const { brokers, groupId } = this.#config;
    if (isConnectionProblem(error)) {
      return new NotConnectedError(unreachableMessage(brokers, error), { cause: error });
    }
    if (error instanceof SluiceError) return error;
    const type = protocolErrorType(error);
    const topics = this.#config.topics?.join(", ") ?? `/${this.#config.topicPattern}/`;
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
      return new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `Kafka at ${brokers.join(", ")} has no topic ${topics}: create it first (the source does not create topics).`,
        { cause: error },
      );
    }
    return new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `Kafka at ${brokers.join(", ")} refused the source while ${doing} for group "${groupId}" (topics ${topics}): ${rootMessage(error)}. Check the topics, the group's permissions and the sasl/tls settings.`,
      { cause: error },
    );
  }

  async #teardown(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#appliedPauses = new Set();
    if (consumer !== undefined) await closeQuietly(() => consumer.disconnect(), CLOSE_TIMEOUT_MS);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the Kafka source was closed");
    }
  }
}

/** A read's limits from flow control (`ReadOptions`), checked. */
interface ReadLimits {
  readonly maxRecords: number;
  readonly perPartition: ReadonlyMap<string, number> | undefined;
}

function readLimits(options: ReadOptions): ReadLimits {
  const { maxRecords, maxRecordsPerPartition } = options;
  if (maxRecords !== undefined) requireCount(maxRecords, "maxRecords");
  for (const [key, max] of maxRecordsPerPartition ?? []) {
    requireCount(max, `maxRecordsPerPartition["${key}"]`);
  }
  return {
    maxRecords: maxRecords ?? Number.POSITIVE_INFINITY,
    perPartition: maxRecordsPerPartition,
  };
}

function requireCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `Kafka source read: ${name} must be a whole number of records, 0 or more, got ${String(value)}`,
    );
  }
}

function partKey(part: ReadPart): string {
  return partitionKey(part.state.topic, part.state.partition);
}

function asTopicPartitions(key: string): { topic: string; partitions: number[] } {
  const { topic, partition } = parsePartitionKey(key);
  return { topic, partitions: [partition] };
}

function toHeld(key: string, message: KafkaMessage): HeldRecord {
  const kafkaOffset = BigInt(message.offset);
  const record: SourceRecord = {
    value: message.value ?? EMPTY,
    ...(message.key ? { key: message.key } : {}),
    headers: toHeaders(message.headers),
    timestampMs: Number(message.timestamp),
    partition: key,
    offset: (kafkaOffset + 1n).toString(),
  };
  return { kafkaOffset, record };
}

const encoder = new TextEncoder();

// Kafka allows a header name more than once; like Kafka's lastHeader(), the last value wins.
function toHeaders(headers: IHeaders | undefined): RecordHeaders {
  const result: Record<string, Uint8Array> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    result[name] = typeof value === "string" ? encoder.encode(value) : value;
  }
  return result;
}
