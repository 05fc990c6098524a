import type {
  Admin,
  Consumer,
  ConsumerCrashEvent,
  ConsumerGroupJoinEvent,
  ConsumerHeartbeatEvent,
  EachBatchPayload,
  Kafka,
  RequestEvent,
} from "kafkajs";
import type { Logger } from "pino";
import {
  abortable,
  closeQuietly,
  NotConnectedError,
  SluiceError,
  withTimeout,
} from "sluice/connector";
import {
  isConnectionProblem,
  protocolErrorType,
  rootMessage,
  unreachableMessage,
} from "./kafka-client.js";
import { kafkaRefusal } from "./kafka-refusal.js";
import { PartitionState } from "./partition-state.js";
import type { ReadPath } from "./read-path.js";
import type { KafkaSourceConfig } from "./source-config.js";
import { partitionKey } from "./topic-partition.js";

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

/** The counters the session keeps up to date, part of the source's metrics. */
export interface SessionCounters {
  rebalances: number;
  restarts: number;
  errors: number;
}

/** What the session tells the source about. */
export interface SessionEvents {
  /** Something a pending read waits for happened (records, a failure, an assignment). */
  readonly wake: () => void;
  /** Partitions were assigned (first join, rebalance, rejoin). */
  readonly assigned: () => void;
  /** The consumer learnt that the group is rebalancing; an assignment follows. */
  readonly rebalancing?: () => void;
}

const CLOSE_TIMEOUT_MS = 10_000;
// kafkajs stamps its last heartbeat just after emitting the event: a millisecond may pass.
const PROOF_SLACK_MS = 5;

/**
 * The Kafka source's consumer session: connects a kafkajs consumer, joins the group and waits
 * until it is assigned and positioned, follows rebalances (a revoked partition's records are
 * dropped, a kept one resumes after the last record fetched, a new one starts at its start
 * offset) and kafkajs's restarts after lost brokers, and remembers a fatal failure for the
 * next read. Fetched batches go to the read path.
 *
 * @example
 * const session = new ConsumerSession(config, logger, createKafkaClient, readPath, counters, events, new Map());
 * await session.connect(signal);
 */
export class ConsumerSession {
  readonly #config: KafkaSourceConfig;
  readonly #logger: Logger;
  readonly #createClient: KafkaClientFactory;
  readonly #readPath: ReadPath;
  readonly #counters: SessionCounters;
  readonly #events: SessionEvents;
  readonly #startOffsets: Map<string, bigint>;
  readonly #revokeAll: boolean;
  /** The heartbeat of the consumer's latest fetched batch (kafkajs offers it only there). */
  #heartbeat: (() => Promise<void>) | undefined;
  /** The member id of the latest join: the membership the current assignment belongs to. */
  #memberId: string | undefined;
  /**
   * The latest sign that the coordinator knew a member: a heartbeat answered, or a join, dated
   * when its request went out (the coordinator knew the member no earlier than that).
   */
  #lastProof:
    | { readonly memberId: string; readonly atMs: number; readonly answeredAtMs: number }
    | undefined;
  /** When the latest answered Heartbeat and SyncGroup requests went out, by API name. */
  readonly #answeredSentAtMs = new Map<string, number>();
  #consumer: Consumer | undefined;
  /** The client of the current consumer, for the look-ups its assignments need. */
  #kafka: Pick<Kafka, "admin"> | undefined;
  /**
   * With `startFrom: "latest"`, the subscribed partitions that existed when the source first
   * connected, and those added since whose start was looked up: any other partition was added
   * to its topic while the source ran (see `#resolveStarts`).
   */
  #knownPartitions: Set<string> | undefined;
  /** The latest look-up of where newly assigned partitions start (`#resolveStarts`). */
  #positioning: Promise<void> | undefined;
  #failure: Error | undefined;
  #closed = false;
  /**
   * With `startFrom: "latest"`, partitions without a start offset start at their first record
   * stamped at or after this time (epoch ms) on the next connect; cleared once looked up.
   */
  firstRunStartedAtMs: number | undefined;

  /**
   * @param startOffsets where newly assigned partitions start, by `"<topic>-<partition>"`;
   *   taken and cleared on the first assignment.
   * @param revokeAll every assignment drops every partition's held records and position, kept
   *   partitions too, so they start again at the group's committed offset (cluster mode: the
   *   work of the previous generation is never committed, see kafka-source.ts).
   */
  constructor(
    config: KafkaSourceConfig,
    logger: Logger,
    createClient: KafkaClientFactory,
    readPath: ReadPath,
    counters: SessionCounters,
    events: SessionEvents,
    startOffsets: Map<string, bigint>,
    revokeAll = false,
  ) {
    this.#revokeAll = revokeAll;
    this.#startOffsets = startOffsets;
    this.#config = config;
    this.#logger = logger;
    this.#createClient = createClient;
    this.#readPath = readPath;
    this.#counters = counters;
    this.#events = events;
  }

  /** The consumer in use, undefined before the first connect and after a failed one. */
  get consumer(): Consumer | undefined {
    return this.#consumer;
  }

  /**
   * Heartbeats to the group coordinator now (unless one went out within the heartbeat
   * interval); rejects when the group is rebalancing or no longer knows this member (its
   * session expired while the process was busy).
   */
  async heartbeat(): Promise<void> {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined) return;
    const interval = this.#config.heartbeatIntervalMs;
    for (let attempt = 0; ; attempt++) {
      const startedAtMs = Date.now();
      await heartbeat();
      // kafkajs resolves without asking the coordinator both when a heartbeat passed within the
      // interval and when it forgot its member id (the coordinator answered "unknown member" to
      // its own heartbeat or fetch, and it is joining again, without a REBALANCING event). Only
      // the first proves membership: a heartbeat or join of the current member whose request
      // went out within the interval.
      const proof = this.#lastProof;
      const current = proof !== undefined && proof.memberId === this.#memberId;
      if (current && proof.atMs >= startedAtMs - interval - PROOF_SLACK_MS) return;
      // kafkajs counts its interval from when it read the last answer, the proof from when its
      // request went out: an answer read late (the event loop was busy) leaves a proof too old
      // while kafkajs sends no new heartbeat yet. Once its interval is over it sends one, whose
      // answer proves membership afresh; a member kafkajs forgot sends none and still fails.
      const renewAtMs = current ? proof.answeredAtMs + interval + PROOF_SLACK_MS : 0;
      if (attempt > 0 || renewAtMs <= startedAtMs) {
        throw new Error(
          "no heartbeat of this member passed within the heartbeat interval: the coordinator no longer knows it, and kafkajs joins the group again",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, renewAtMs - Date.now()));
    }
  }

  /** The failure the next read reports, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** True when connected and nothing failed since. */
  get connected(): boolean {
    return this.#consumer !== undefined && this.#failure === undefined;
  }

  /** Remembers a fatal failure (counted as an error) for the next read, and wakes it. */
  fail(error: Error): void {
    this.#counters.errors++;
    this.#failure = error;
    this.#events.wake();
  }

  /**
   * Connects a new consumer (after tearing down a failed one) and resolves once it joined the
   * group and was assigned and positioned.
   */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.#consumer !== undefined) await this.teardown();
    this.#failure = undefined;
    this.#positioning = undefined;
    const config = this.#config;
    const kafka = this.#createClient(config, this.#logger);
    this.#kafka = kafka;
    if (this.#knownPartitions === undefined && config.startFrom === "latest") {
      try {
        this.#knownPartitions = await abortable(this.#subscribedPartitions(kafka), signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        this.#counters.errors++;
        throw this.#describeFailure(error, "listing the topics' partitions");
      }
    }
    if (this.firstRunStartedAtMs !== undefined && config.startFrom === "latest") {
      try {
        await abortable(this.#startAtTime(kafka, this.firstRunStartedAtMs), signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        this.#counters.errors++;
        throw this.#describeFailure(error, "looking up offsets by time");
      }
      this.firstRunStartedAtMs = undefined;
    }
    const consumer = this.#createConsumer(kafka);
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
    // kafkajs reports a request's answer (REQUEST, with the time it went out) just before the
    // heartbeat or join that awaited it. A proof is dated by its request, not by its event: an
    // answer read only after the event loop was blocked (its request went out just before a
    // long batch) says nothing about the member after the request, while the session may
    // have expired during the block.
    consumer.on(consumer.events.REQUEST, (event: RequestEvent) => {
      if (this.#consumer !== consumer) return;
      const { apiName, sentAt } = event.payload;
      if (apiName === "Heartbeat" || apiName === "SyncGroup") {
        this.#answeredSentAtMs.set(apiName, sentAt);
      }
    });
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      if (this.#consumer !== consumer) return;
      joined = true;
      this.#memberId = event.payload.memberId;
      this.#lastProof = {
        memberId: event.payload.memberId,
        atMs: this.#sentAt("SyncGroup"),
        answeredAtMs: Date.now(),
      };
      this.#assign(consumer, event.payload.memberAssignment);
    });
    consumer.on(consumer.events.HEARTBEAT, (event: ConsumerHeartbeatEvent) => {
      if (this.#consumer !== consumer) return;
      this.#lastProof = {
        memberId: event.payload.memberId,
        atMs: this.#sentAt("Heartbeat"),
        answeredAtMs: Date.now(),
      };
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (this.#consumer === consumer) this.#events.rebalancing?.();
    });
    consumer.on(consumer.events.FETCH, () => {
      if (joined) ready();
    });
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (this.#consumer !== consumer) return;
      const { error, restart } = event.payload;
      if (restart) {
        // The restarted consumer rejoins the group: as for a rebalance, an assignment follows.
        this.#readPath.consumerRestarted();
        this.#events.rebalancing?.();
        this.#counters.restarts++;
        this.#logger.warn(
          { err: error },
          "the Kafka consumer lost the brokers; kafkajs restarts it and it rejoins the group",
        );
        return;
      }
      this.fail(this.#describeFailure(error, "consuming"));
      failed(this.#failure);
    });
    this.#consumer = consumer;
    this.#heartbeat = undefined;
    this.#readPath.attach(consumer);
    try {
      await this.#join(consumer, readiness, signal);
      // Positioned includes partitions whose start had to be looked up.
      if (this.#positioning !== undefined) await abortable(this.#positioning, signal);
      if (this.#failure !== undefined) throw this.#failure;
    } catch (error) {
      if (this.#consumer === consumer) {
        this.#consumer = undefined;
        this.#readPath.attach(undefined);
      }
      await closeQuietly(() => consumer.disconnect(), CLOSE_TIMEOUT_MS);
      if (signal.aborted) throw signal.reason;
      this.#counters.errors++;
      throw this.#describeFailure(error, "connecting");
    }
  }

  /** Disconnects the consumer (waiting at most a few seconds); the session stays usable. */
  async teardown(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#readPath.attach(undefined);
    if (consumer !== undefined) await closeQuietly(() => consumer.disconnect(), CLOSE_TIMEOUT_MS);
  }

  /** Stops taking batches and disconnects, for good. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.teardown();
  }

  #createConsumer(kafka: Pick<Kafka, "consumer">): Consumer {
    const config = this.#config;
    return kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      metadataMaxAge: config.metadataMaxAgeMs,
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
  }

  // Connects, subscribes and runs the consumer, then waits for the first assignment's fetch.
  async #join(consumer: Consumer, readiness: Promise<void>, signal: AbortSignal): Promise<void> {
    const config = this.#config;
    await abortable(consumer.connect(), signal);
    const topics = config.topics ?? [new RegExp(config.topicPattern ?? "")];
    await abortable(
      // kafkajs starts a partition without an offset, and one whose offset is out of range
      // (records deleted by retention while the job was down or behind), at its beginning or
      // its end. The source positions partitions without a committed offset itself (startFrom
      // "latest": `#resolveStarts`), so kafkajs's choice only applies out of range: there the
      // beginning is where the records not deleted yet start; the end would skip every one.
      consumer.subscribe({ topics, fromBeginning: true }),
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
  }

  // Start offsets, for the subscribed partitions that have none, at the first record stamped
  // at or after `timeMs` (the end of the partition when there is none).
  async #startAtTime(kafka: Pick<Kafka, "admin">, timeMs: number): Promise<void> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      for (const topic of await this.#topicNames(admin)) {
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

  // The subscribed topics: `topics`, or those `topicPattern` matches now.
  async #topicNames(admin: Admin): Promise<readonly string[]> {
    const { topics, topicPattern } = this.#config;
    if (topics !== undefined) return topics;
    const pattern = topicPattern === undefined ? undefined : new RegExp(topicPattern);
    return (await admin.listTopics()).filter((name) => pattern?.test(name));
  }

  // Every partition of the subscribed topics now, as "<topic>-<partition>".
  async #subscribedPartitions(kafka: Pick<Kafka, "admin">): Promise<Set<string>> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const names = await this.#topicNames(admin);
      const known = new Set<string>();
      if (names.length === 0) return known;
      for (const { name, partitions } of (await admin.fetchTopicMetadata({ topics: [...names] }))
        .topics) {
        for (const { partitionId } of partitions) known.add(partitionKey(name, partitionId));
      }
      return known;
    } finally {
      await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
    }
  }

  // Partitions assigned without a start offset, where the group has no committed offset either.
  // kafkajs would start them at their end (startFrom "latest") when it first fetches them:
  // - a partition added to its topic while the source ran (`added`) is assigned at kafkajs's
  //   next metadata refresh, possibly well after its first records arrived; everything in it
  //   came after the source started, so it starts at its first record;
  // - any other starts at its end, and that start is committed at once: with several members,
  //   a partition that moves to another one before this source committed anything would
  //   otherwise start there at its end again, and the records this source fetched and dropped
  //   with it would be read by nobody.
  // A partition the group has committed starts there, as kafkajs does anyway. The partitions
  // are held from fetching until then; a failed look-up fails the session (the partitions stay
  // unknown, so the reconnect looks them up again).
  async #resolveStarts(
    consumer: Consumer,
    unresolved: readonly { key: string; state: PartitionState; added: boolean }[],
  ): Promise<void> {
    const kafka = this.#kafka;
    const keys = unresolved.map(({ key }) => key);
    if (kafka === undefined) return;
    const admin = kafka.admin();
    try {
      await admin.connect();
      const topics = [...new Set(unresolved.map(({ state }) => state.topic))];
      const committed = new Map<string, string>();
      for (const { topic, partitions } of await admin.fetchOffsets({
        groupId: this.#config.groupId,
        topics,
      })) {
        for (const { partition, offset } of partitions) {
          committed.set(partitionKey(topic, partition), offset);
        }
      }
      const ends = new Map<string, { low: string; high: string }>();
      for (const topic of topics) {
        for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
          ends.set(partitionKey(topic, partition), { low, high });
        }
      }
      if (this.#consumer !== consumer) return;
      const starts: { topic: string; partition: number; offset: string }[] = [];
      for (const { key, state, added } of unresolved) {
        this.#knownPartitions?.add(key);
        const end = ends.get(key);
        const offset = committed.get(key);
        if (this.#readPath.partitions.get(key) !== state || end === undefined) continue;
        if (offset !== undefined && BigInt(offset) >= 0n) continue;
        const start = added ? end.low : end.high;
        state.nextFetch = BigInt(start);
        consumer.seek({ topic: state.topic, partition: state.partition, offset: start });
        starts.push({ topic: state.topic, partition: state.partition, offset: start });
        if (added) {
          this.#logger.info(
            { partition: key, offset: start },
            "a partition added while the source ran starts at its first record",
          );
        }
      }
      if (starts.length > 0) {
        await consumer.commitOffsets(starts).catch((error: unknown) => {
          this.#logger.warn(
            { err: error, starts },
            "committing where partitions start failed; a member that takes one over before this source commits it starts at its end",
          );
        });
      }
    } catch (error) {
      if (this.#consumer === consumer && !this.#closed) {
        this.fail(this.#describeFailure(error, "looking up where partitions start"));
      }
    } finally {
      await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
      if (this.#consumer === consumer) this.#readPath.release(keys);
    }
  }

  // When the latest answered request of `apiName` went out: the one the event being handled
  // awaited. Now when kafkajs reported none.
  #sentAt(apiName: string): number {
    return Math.min(this.#answeredSentAtMs.get(apiName) ?? Date.now(), Date.now());
  }

  // kafkajs pushes a fetched batch of one partition: the read path keeps what is new.
  async #receive(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isStale, resolveOffset } = payload;
    if (this.#consumer === consumer) this.#heartbeat = payload.heartbeat;
    if (this.#consumer !== consumer || this.#closed || isStale()) return;
    const key = partitionKey(batch.topic, batch.partition);
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    if (!this.#readPath.receive(key, batch.messages, batch.highWatermark)) return;
    resolveOffset(last.offset);
    this.#events.wake();
  }

  // A new assignment (first join, rebalance, or rejoin after a restart).
  #assign(consumer: Consumer, assignment: Record<string, number[]>): void {
    this.#counters.rebalances++;
    const partitions = this.#readPath.partitions;
    const assigned = new Map<string, { topic: string; partition: number }>();
    for (const [topic, numbers] of Object.entries(assignment)) {
      for (const partition of numbers) {
        assigned.set(partitionKey(topic, partition), { topic, partition });
      }
    }
    for (const [key, state] of partitions) {
      if (assigned.has(key) && !this.#revokeAll) continue;
      // Revoked: whoever gets it next starts from the last committed offset.
      partitions.delete(key);
      this.#logger.info(
        { partition: key, dropped: state.buffered, committed: state.committed?.toString() },
        "partition revoked; its unacknowledged records are dropped",
      );
    }
    const unresolved: { key: string; state: PartitionState; added: boolean }[] = [];
    for (const [key, { topic, partition }] of assigned) {
      let state = partitions.get(key);
      if (state === undefined) {
        state = new PartitionState(topic, partition);
        partitions.set(key, state);
        const start = this.#startOffsets.get(key);
        if (start !== undefined) {
          this.#startOffsets.delete(key);
          state.nextFetch = start;
        } else if (this.#knownPartitions !== undefined) {
          // (In cluster mode the handoff then seeks the partitions that have committed offsets.)
          unresolved.push({ key, state, added: !this.#knownPartitions.has(key) });
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
    this.#readPath.attach(consumer);
    this.#readPath.syncPauses();
    if (unresolved.length > 0) {
      this.#readPath.hold(unresolved.map(({ key }) => key));
      this.#positioning = this.#resolveStarts(consumer, unresolved);
    }
    this.#logger.info({ partitions: [...assigned.keys()] }, "partitions assigned");
    this.#events.assigned();
    this.#events.wake();
  }

  #describeFailure(error: unknown, doing: string): Error {
    const { brokers, groupId, transactionalId } = this.#config;
    const refusal = kafkaRefusal(error, brokers, {
      who: "the source",
      topics:
        this.#config.topics?.map((topic) => `"${topic}"`).join(", ") ??
        `/${this.#config.topicPattern}/`,
      groupId,
      transactionalId,
      topicOperation: "Read",
    });
    if (refusal !== undefined) return refusal;
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
}
