import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import {
  type ClusterMembership,
  NotConnectedError,
  type ReadOptions,
  type ReadResult,
  readColumnsResult,
  readResult,
  type SeekOptions,
  SluiceError,
  type Source,
  Wakeup,
  warnAboutTls,
} from "sluice/connector";
import { ClusterFence } from "./cluster-fence.js";
import { ConsumerSession, type KafkaClientFactory } from "./consumer-session.js";
import { checkpointAhead, groupCommits, topicsOf } from "./group-commits.js";
import { createKafkaClient, rootMessage } from "./kafka-client.js";
import type { KafkaKeyedExchange } from "./keyed/kafka-keyed-exchange.js";
import { keyedExchangeFor } from "./keyed/source-exchange.js";
import { PartitionState } from "./partition-state.js";
import { fencedAdvice } from "./producer-fencing.js";
import { type ReadLimits, type ReadPart, ReadPath, readLimits } from "./read-path.js";
import type { KafkaSourceConfig } from "./source-config.js";
import { parseOffset, parsePartitionKey, partitionKey } from "./topic-partition.js";
import { attachSource, type ConsumedOffset, linkedSink } from "./transaction-link.js";

export type { KafkaClientFactory } from "./consumer-session.js";

/**
 * A source in cluster mode: the membership it reports its partitions to, and its id there;
 * `fenceClient` is the kafkajs client of the group's fence (cluster-fence.ts) when paired with a
 * sink (default: one connecting to the source's brokers; tests give one without a broker).
 */
export interface KafkaSourceCluster {
  readonly membership: ClusterMembership;
  readonly connectorId: string;
  readonly fenceClient?: Pick<Kafka, "admin" | "producer">;
}

/** An acknowledgement waiting for the paired sink's commit of its turn (cluster mode). */
interface WaitingAck {
  readonly sequence: number;
  readonly parts: readonly ReadPart[];
  /** The source's epoch (assignments and rollbacks) when the read was handed out. */
  readonly epoch: number;
}

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

/**
 * Reads a Kafka consumer group's partitions. Offsets belong to Sluice: auto-commit is off, and
 * a read's offsets are committed to Kafka only when Sluice acknowledges it (after the batch
 * holding it was output and checkpointed). kafkajs pushes fetched batches; the source buffers
 * them per partition (pausing a partition whose buffer is full) and hands them out on `read`.
 * The consumer session (consumer-session.ts) connects, joins and follows rebalances; the read
 * path (read-path.ts) buffers and hands out; this class settles reads and commits offsets.
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
  readonly #createClient: KafkaClientFactory;
  readonly #logger: Logger;
  readonly #startOffsets = new Map<string, bigint>();
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
  readonly #readPath: ReadPath;
  readonly #session: ConsumerSession;
  #closed = false;
  #commitChain: Promise<void> = Promise.resolve();
  /** The paired commit under way: it has taken the acknowledgements it commits. */
  #runningLinkedCommit: Promise<void> | undefined;
  /**
   * The paired commit asked for by acknowledgements made since the running one took its own:
   * it begins once that one is done, and every acknowledgement until then joins it.
   */
  #nextLinkedCommit: Promise<void> | undefined;
  /** Set once a paired transaction failed: no later commit may commit offsets (see there). */
  #linkedFailure: Error | undefined;
  #detachLink: (() => void) | undefined;
  readonly #cluster: KafkaSourceCluster | undefined;
  /** Counts assignments; a read remembers the one it was taken in (cluster mode). */
  #generation = 0;
  /**
   * Bumped by every assignment and every rollback: a read settles with the commit only if no
   * assignment or rollback came since it was handed out.
   */
  #epoch = 0;
  /** True from the moment the consumer learns of a rebalance until the next assignment. */
  #rebalancing = false;
  /** Acknowledgements of the current turn, settled by its commit (cluster mode). */
  #waitingAcks: WaitingAck[] = [];
  /** The group's fence (cluster mode with a paired sink), see cluster-fence.ts. */
  readonly #fence: ClusterFence | undefined;
  /** Aborts the fence's waits when the source closes. */
  readonly #closing = new AbortController();
  /**
   * Set after an assignment until every commit begun before it has settled and the assigned
   * partitions restart at the group's final committed offsets (cluster mode): reads wait.
   */
  #handoff: Promise<void> | undefined;
  /** The keyed exchange this source carries (cluster mode, a job with a keyed part). */
  readonly #keyed: KafkaKeyedExchange | undefined;

  /**
   * @param checkpointed offsets Sluice checkpointed on the previous run, per
   *   `"<topic>-<partition>"` (the next record to read); they win over `config.startOffsets`.
   * @param createClient builds the kafkajs client (tests give one without a broker).
   * @param cluster cluster mode (docs/cluster.md): every rebalance drops every partition's
   *   uncommitted work, kept partitions too, and a paired sink's transaction holding outputs
   *   of an earlier assignment is aborted instead of committed, so a partition that moves is
   *   neither lost nor counted twice.
   */
  constructor(
    config: KafkaSourceConfig,
    logger: Logger,
    checkpointed: ReadonlyMap<string, string> = new Map(),
    createClient: KafkaClientFactory = createKafkaClient,
    cluster?: KafkaSourceCluster,
  ) {
    this.#cluster = cluster;
    this.#fence =
      cluster === undefined || config.transactionalId === undefined
        ? undefined
        : new ClusterFence(
            cluster.fenceClient ?? createKafkaClient(config, logger),
            `${config.groupId}.sluice-fence`,
          );
    this.#config = config;
    this.#createClient = createClient;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "Kafka source");
    this.#keyed =
      cluster === undefined
        ? undefined
        : keyedExchangeFor(config, cluster.membership, () => this.assignment(), logger);
    this.#readPath = new ReadPath(config, logger, this.#counters);
    this.#session = new ConsumerSession(
      config,
      logger,
      createClient,
      this.#readPath,
      this.#counters,
      {
        wake: () => this.#wakeup.notify(),
        assigned: () => {
          if (cluster !== undefined) this.#newGeneration(cluster);
          if (config.transactionalId === undefined) void this.#commit();
        },
        rebalancing: () => {
          this.#rebalancing = true;
        },
      },
      this.#startOffsets,
      cluster !== undefined,
    );
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
    return {
      ...this.#counters,
      bufferedRecords: this.#readPath.bufferedRecords,
      pausedPartitions: this.#readPath.pausedPartitions,
    };
  }

  /** The partitions assigned to this source now, as `"<topic>-<partition>"`, sorted. */
  assignment(): string[] {
    return [...this.#readPath.partitions.keys()].sort();
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
    return this.#readPath.backlog();
  }

  /**
   * With `transactionalId`, the sink the acknowledgements commit (a paired Kafka sink, or in a
   * cluster job with a keyed part the keyed exchange): Sluice then refuses overlapping batches.
   *
   * @example
   * source.pairedSink(); // 'the Kafka sink with transactionalId "orders-eos"'
   */
  pairedSink(): string | undefined {
    const id = this.#config.transactionalId;
    if (id === undefined) return undefined;
    return this.#keyed === undefined
      ? `the Kafka sink with transactionalId "${id}"`
      : `the keyed exchange written in transaction "${id}"`;
  }

  /**
   * Paired with a sink by `transactionalId` (outside cluster mode), this source resumes from the
   * group's last committed transaction: says why a checkpoint that saved `offsets` must not be
   * restored — it used records that transaction does not cover (the run stopped between the
   * checkpoint and the commit), which would be read and counted again.
   *
   * @example
   * await source.checkpointAheadOfCommit(new Map([["orders-0", "1200"]]));
   * // 'partition orders-0: the checkpoint used records up to offset 1200, group "job" committed up to 1100'
   */
  async checkpointAheadOfCommit(offsets: ReadonlyMap<string, string>): Promise<string | undefined> {
    const { transactionalId, groupId } = this.#config;
    if (transactionalId === undefined || this.#cluster !== undefined) return undefined;
    const kafka = this.#createClient(this.#config, this.#logger);
    const committed = await groupCommits(kafka, groupId, topicsOf(offsets.keys()));
    return checkpointAhead(offsets, committed, groupId);
  }

  /**
   * A checkpoint was written and its acknowledgements made: paired with a sink (outside cluster
   * mode), the sink's open transaction — outputs of batches the checkpoint covers, those
   * without input too — commits now with the offsets acknowledged so far, even when the
   * checkpoint acknowledged no read (none came back before its batch was cut: a poll longer
   * than the checkpoint interval, a paused source). Joins the commit its acknowledgements asked
   * for if that has not begun yet, else the one after it. In cluster mode every batch commits on
   * its own acknowledgement.
   *
   * @example
   * await source.checkpointed();
   */
  async checkpointed(): Promise<void> {
    if (this.#config.transactionalId === undefined || this.#cluster !== undefined) return;
    if (this.#closed) return;
    await this.#linkedCommit();
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
    if (this.#session.consumer !== undefined) {
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
    this.#session.firstRunStartedAtMs = options.firstRunStartedAtMs;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#session.connected) return;
    signal.throwIfAborted();
    await this.#fence?.ensureTopic();
    if (this.#keyed !== undefined) {
      await this.#keyed.start(signal);
      this.#cluster?.membership.offerKeyedExchange(this.#keyed);
    }
    await this.#session.connect(signal);
    const config = this.#config;
    if (config.transactionalId !== undefined && this.#detachLink === undefined) {
      const source = this;
      this.#detachLink = attachSource(config.transactionalId, {
        get pendingCommit() {
          return source.#pendingLinkedCommit();
        },
        commitAcknowledged: () => source.#linkedCommit(),
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
    if (this.#session.consumer === undefined && this.#session.failure === undefined) {
      throw new NotConnectedError("the Kafka source is not connected; call connect() first");
    }
    const limits = readLimits(options);
    const deadline = Date.now() + this.#config.pollTimeoutMs;
    for (;;) {
      const failure = this.#session.failure;
      if (failure !== undefined) throw failure;
      if (this.#readPath.paused || this.#closed || signal.aborted) return this.#empty();
      // During a hand-over nothing is handed out; its end wakes this read.
      const result = this.#handoff === undefined ? this.#take(limits) : undefined;
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) return this.#empty();
      await this.#wakeup.wait(signal, left);
    }
  }

  // A read with no records still settles: acknowledging it retries failed commits, and for a
  // paired source commits the sink's transaction (the batch may have written outputs). It
  // remembers the reads handed out before it: only those can be in a batch writing outputs.
  #empty(): ReadResult {
    const epoch = this.#epoch;
    const after = this.#readPath.lastSequence;
    return readResult([], (error) => this.#settle(0, [], error, epoch, after));
  }

  pause(): void {
    if (this.#readPath.setPaused(true)) this.#wakeup.notify();
  }

  resume(): void {
    if (this.#readPath.setPaused(false)) this.#wakeup.notify();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#wakeup.notify();
    this.#detachLink?.();
    this.#detachLink = undefined;
    await this.#session.close();
    await this.#keyed?.close();
    await this.#fence?.close();
    this.#readPath.partitions.clear();
  }

  #take(limits: ReadLimits): ReadResult | undefined {
    const taken = this.#readPath.take(limits);
    if (taken === undefined) return undefined;
    const { sequence, parts, columns } = taken;
    const epoch = this.#epoch;
    return readColumnsResult(columns, (error) => this.#settle(sequence, parts, error, epoch));
  }

  // Cluster mode: a rebalance revoked every partition (kafkajs rebalances eagerly). The paired
  // sink's open transaction may hold outputs of reads of the previous assignment: it is aborted
  // now, and reads of that assignment never commit (see #linkedCommitNow).
  #newGeneration(cluster: KafkaSourceCluster): void {
    this.#generation++;
    this.#epoch++;
    this.#rebalancing = false;
    cluster.membership.reportPartitions(cluster.connectorId, this.assignment());
    if (this.#fence !== undefined) {
      const fence = this.#fence;
      const generation = this.#generation;
      const pending = this.#pendingLinkedCommit();
      const handoff = this.#handOver(fence, generation, pending)
        .catch((error: unknown) => {
          if (this.#closed) return;
          this.#fail(
            new SluiceError(
              "SLUICE_CONNECTOR_IO",
              `Taking over partitions of group "${this.#config.groupId}" failed while waiting for the previous owners' commits (fence topic "${fence.topic}"): ${rootMessage(error)}. Check that the brokers are up and that the group may write and create that topic.`,
              { cause: error },
            ),
          );
        })
        .finally(() => {
          if (this.#handoff === handoff) this.#handoff = undefined;
          this.#wakeup.notify();
        });
      this.#handoff = handoff;
    }
    const id = this.#config.transactionalId;
    const sink = id === undefined ? undefined : linkedSink(id);
    void sink
      ?.abortOpen()
      .catch((error: unknown) =>
        this.#logger.warn({ err: error }, "aborting the paired sink's transaction failed"),
      );
  }

  // kafkajs restarted the assigned partitions at the group's committed offsets as it read them
  // at the assignment, maybe before a commit of the previous owner (this process or another)
  // was final. Once every such commit has settled, the partitions restart at the final offsets
  // (no read of this assignment was handed out yet: reads wait for the handoff).
  async #handOver(
    fence: ClusterFence,
    generation: number,
    pending: Promise<void> | undefined,
  ): Promise<void> {
    await pending?.catch(() => undefined);
    await fence.awaitCommitsSettled(this.#closing.signal);
    const topics = [...new Set([...this.#readPath.partitions.values()].map((s) => s.topic))];
    const committed = await fence.committedOffsets(this.#config.groupId, topics);
    const consumer = this.#session.consumer;
    if (generation !== this.#generation || consumer === undefined) return;
    for (const { topic, partition, offset } of committed) {
      const key = partitionKey(topic, partition);
      if (!this.#readPath.partitions.has(key)) continue;
      const state = new PartitionState(topic, partition);
      state.nextFetch = offset;
      state.committed = offset;
      this.#readPath.partitions.set(key, state);
      consumer.seek({ topic, partition, offset: offset.toString() });
    }
    this.#readPath.syncPauses();
  }

  #settle(
    sequence: number,
    parts: readonly ReadPart[],
    error: unknown,
    epoch: number,
    emptyAfter = sequence,
  ): void | Promise<void> {
    // A read that brought nothing is settled at once, while a batch's reads may still be on
    // their way: its commit would commit the paired sink's transaction, which holds that batch's
    // outputs, without the batch's offsets (a crash then outputs the batch twice). With reads in
    // flight, their own acknowledgement commits. Only reads handed out before this one count:
    // with checkpointing Sluice settles it with a checkpoint, when every output written is
    // covered and later reads wait for the next batch; skipping that commit would leave outputs
    // of batches the checkpoint covers uncommitted. (In cluster mode the paired side keeps one
    // batch per transaction and commits a batch's records only with offsets itself, and an idle
    // batch's markers need this commit.)
    if (
      error === undefined &&
      parts.length === 0 &&
      this.#cluster === undefined &&
      this.#config.transactionalId !== undefined &&
      [...this.#readPath.partitions.values()].some((state) => state.hasInFlightThrough(emptyAfter))
    ) {
      return;
    }
    if (
      error === undefined &&
      this.#cluster !== undefined &&
      this.#config.transactionalId !== undefined
    ) {
      // Settled by the commit of this turn, which knows whether every read of it is current.
      this.#waitingAcks.push({ sequence, parts, epoch });
      return this.#linkedCommit();
    }
    const current = this.#readPath.current(parts);
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
    this.#readPath.syncPauses();
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
    const consumer = this.#session.consumer;
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
  // batch together) commit together, in the paired sink's transaction of that batch. One made
  // while a commit is under way (during its heartbeat or the sink's commit) comes too late for
  // it: that commit already took its acknowledgements and offsets. It gets the one commit that
  // follows, which every acknowledgement until then joins. Commits run one at a time, in order,
  // and a failed one does not hold up the next.
  #linkedCommit(): Promise<void> {
    if (this.#nextLinkedCommit !== undefined) return this.#nextLinkedCommit;
    const running = this.#runningLinkedCommit;
    const next: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => running?.catch(() => undefined))
      .then(async () => {
        this.#nextLinkedCommit = undefined;
        this.#runningLinkedCommit = next;
        try {
          await this.#linkedCommitNow();
        } finally {
          if (this.#runningLinkedCommit === next) this.#runningLinkedCommit = undefined;
        }
      });
    this.#nextLinkedCommit = next;
    return next;
  }

  // The paired commit that acknowledgements made so far wait for: the last one asked for.
  #pendingLinkedCommit(): Promise<void> | undefined {
    return this.#nextLinkedCommit ?? this.#runningLinkedCommit;
  }

  async #linkedCommitNow(): Promise<void> {
    const id = this.#config.transactionalId as string;
    const failure = this.#linkedFailure;
    if (failure !== undefined) {
      // The failed transaction rolled back outputs of reads acknowledged before it: a later
      // commit would commit their offsets without those outputs. The source reports the
      // failure on its next read, and a restart resumes from the last committed transaction.
      this.#waitingAcks = [];
      throw failure;
    }
    const sink = linkedSink(id);
    // A process busy longer than the session timeout may have lost its partitions without
    // knowing yet: asking the coordinator first turns that into a rollback. Once a heartbeat
    // passed, the partitions cannot move before the session timeout or before this member
    // rejoins, both far longer than the commit takes.
    let member = true;
    if (this.#cluster !== undefined && this.#waitingAcks.length > 0) {
      try {
        await this.#session.heartbeat();
      } catch (error) {
        member = false;
        // The reads handed out so far never commit: the outputs of those still on their way
        // (their batch may have written some into the transaction aborted now, and writes the
        // rest into a new one) are rolled back with them when they settle. Reads handed out
        // from now on commit only after a heartbeat of their own passes, so a process that lost
        // its partitions commits nothing, and one whose heartbeat failed while it kept them
        // (a late heartbeat event) goes on without waiting for an assignment that never comes.
        this.#epoch++;
        this.#logger.info(
          { err: error },
          "the group is rebalancing or no longer knows this process: rolling back",
        );
      }
    }
    if (!this.#settleWaitingAcks(member)) {
      await sink?.abortOpen().catch((error: unknown) => {
        this.#logger.warn({ err: error }, "aborting the paired sink's transaction failed");
      });
      return;
    }
    const targets = this.#commitTargets();
    // Reads that brought nothing may be acknowledged before the sink finished connecting (it
    // connects beside the source at start): nothing to commit yet, and nothing missing.
    if (sink === undefined && targets.length === 0) return;
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
      await sink.commitWithOffsets(
        this.#config.groupId,
        targets,
        this.#fence?.record(this.#cluster?.membership.processId ?? ""),
      );
      this.#markCommitted(targets);
    } catch (error) {
      this.#counters.commitErrors++;
      const fenced = fencedAdvice(error, id);
      const restart = fenced === undefined ? "restart the job" : `${fenced} Then restart the job`;
      this.#linkedFailure = new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `The Kafka transaction "${id}" committing the offsets of group "${this.#config.groupId}" failed: ${rootMessage(error)}. Its outputs were rolled back; ${restart} to resume from the last committed transaction (nothing is lost or duplicated).`,
        { cause: error },
      );
      this.#fail(this.#linkedFailure);
    }
  }

  // Cluster mode: acknowledges the reads of this turn when this process is still a member, all
  // of them belong to the current assignment and no rebalance is under way, and returns true (their outputs commit with their
  // offsets). Otherwise the outputs of the turn must not commit: the reads of the current
  // assignment are nacked (handed out again), those of an earlier one were dropped with it.
  #settleWaitingAcks(member: boolean): boolean {
    const waiting = this.#waitingAcks;
    this.#waitingAcks = [];
    if (this.#cluster === undefined) return true;
    const stale =
      !member || this.#rebalancing || waiting.some(({ epoch }) => epoch !== this.#epoch);
    for (const { sequence, parts } of waiting) {
      for (const part of this.#readPath.current(parts)) {
        if (stale) part.state.nacked(sequence, part.records);
        else part.state.acked(sequence);
      }
    }
    if (stale) {
      this.#counters.nacks += waiting.length;
      this.#logger.info(
        { reads: waiting.length },
        "outputs of reads taken before a rebalance are rolled back; their records are read again",
      );
      this.#afterNack();
      return false;
    }
    this.#counters.acks += waiting.length;
    return true;
  }

  #commitTargets(): ConsumedOffset[] {
    const targets: ConsumedOffset[] = [];
    for (const state of this.#readPath.partitions.values()) {
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
      const state = this.#readPath.partitions.get(partitionKey(topic, partition));
      if (state !== undefined && (state.committed === undefined || offset > state.committed)) {
        state.committed = offset;
      }
    }
  }

  #fail(error: Error): void {
    this.#session.fail(error);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the Kafka source was closed");
    }
  }
}
