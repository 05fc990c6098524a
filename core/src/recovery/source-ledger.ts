import { deserialize, serialize } from "node:v8";
import type { Logger } from "pino";
import {
  type ColumnOffsets,
  SourceRecordColumns,
  type SourceRecordColumnsInit,
} from "../connector/record-columns.js";
import type { SourceRecord } from "../connector/records.js";
import type { Source, SourceDelivery } from "../connector/source.js";
import { Wakeup } from "../connector/wakeup.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { ReceivedBlock } from "../input/block-buffer.js";
import type { InputCheckpoint, InputExtent } from "./checkpoint-data.js";
import type { WriteAheadLog } from "./write-ahead-log.js";

/** Records received and not yet in a batch. */
interface HeldBlock {
  /** The records; made from `columns` on first read when they came as a byte batch. */
  records: SourceRecord[];
  /**
   * The same records as a byte batch (logged and handed to the batch as columns); gone once
   * `records` is replaced (a replay took some of them).
   */
  readonly columns?: SourceRecordColumns | undefined;
  /** Settles the read result once the batch holding its last record is checkpointed. */
  readonly ack: ((error?: unknown) => void) | undefined;
  /** Its write-ahead log entry. */
  readonly sequence: number | undefined;
}

/**
 * How long, in running time, the id of a record logged before a crash waits for the broker's
 * copy (see `SourceLedgerOptions.awaitCopiesMs`). A broker sends an unacknowledged message again
 * once it sees its consumer's connection gone — at once for a killed process, within the
 * heartbeat timeout (RabbitMQ's 60 s, MQTT's keep-alive) for a lost host — to the next consumer,
 * mostly ahead of newer messages (RabbitMQ puts a requeued message back in its place where it
 * can, an MQTT session resends on reconnect); RabbitMQ's `consumer_timeout` (30 min) bounds how
 * long even a live consumer keeps deliveries unacknowledged. An hour of runs reading from the
 * broker is well past all of them; only a run's time up to its last checkpoint counts, not the
 * time the job was down nor the time its source's connection was (the copies come once it is
 * back).
 */
export const AWAIT_COPIES_MS = 60 * 60_000;

/**
 * The most ids of records logged before a crash that a source keeps awaiting copies of: each
 * crash adds those it logged after its last checkpoint (about one checkpoint interval of
 * records), and each lost connection those of the few minutes before it, so only a busy source
 * losing crash after crash or connection after connection nears it; a checkpoint then carries
 * a few MB of ids.
 */
export const MAX_AWAITED_IDS = 100_000;

/**
 * The most ids of records the log let go that a source keeps, to drop copies a broker sends
 * after a lost connection: no record is read while the connection is down, so those read just
 * before it are the newest here however long it stays down. About 7 MB of ids at most.
 */
export const MAX_ACKNOWLEDGED_IDS = 100_000;

/**
 * How long a dead connection can go unnoticed, so how far back before a lost connection the
 * acknowledgements sent on it may have died, for a source that does not say
 * (`Source.deadConnectionTimeoutMs`): two missed heartbeats at a minute each, with room.
 */
export const UNCONFIRMED_ACKNOWLEDGEMENTS_MS = 3 * 60_000;

/** The id of a record logged before a crash, whose copy the broker may still send. */
interface AwaitedId {
  /** The running time it was awaited in earlier runs (from the checkpoint). */
  readonly earlierMs: number;
  /**
   * When this run began awaiting it, in reading time (`#readingTime`): at a lost connection;
   * `undefined` for the ids awaited from the run's start.
   */
  readonly sinceMs: number | undefined;
  /**
   * The last checkpoint written when a copy was last dropped: the id goes once a checkpoint
   * after that one is written (the copy's acknowledgement went out a whole checkpoint ago).
   * `undefined` while no copy came.
   */
  seenAfter: number | undefined;
}

/** How a `SourceLedger` is set up. */
export interface SourceLedgerOptions {
  /** The input's stable name (the connector's id). */
  readonly name: string;
  /** The write-ahead log for a source that cannot replay; none for a replayable one. */
  readonly wal: WriteAheadLog | undefined;
  /**
   * How the source's records survive a crash. With `"acknowledged-offsets"` the external system
   * may deliver again records whose result is still unacknowledged (an acknowledgement deadline
   * passed); such copies are dropped by partition and offset. Default: `"log"` with a log,
   * `"offsets"` without.
   */
  readonly delivery?: SourceDelivery;
  /** Where the input stood at the checkpoint recovered from, if any. */
  readonly recovered: InputCheckpoint | undefined;
  /** What this input put into each batch generated after that checkpoint, by batch time. */
  readonly replays: ReadonlyMap<number, InputExtent>;
  /** The wall-clock time the job's first run started (for `seek`). */
  readonly firstStartedAt: number;
  /** How long a replayed batch waits for the source to deliver its records again. */
  readonly replayTimeoutMs: number;
  readonly logger: Logger;
  /** Told about replays that could not be reproduced exactly. */
  readonly onReplayProblem: (problem: string) => void;
  /** Identifies a record across redeliveries, to drop copies of records already logged. */
  readonly recordId: ((record: SourceRecord) => string | undefined) | undefined;
  /**
   * How long, in running time summed over the runs that checkpointed, the id of a record logged
   * before a crash is kept for its copy when none comes (most never do: their acknowledgement
   * reached the broker). Default `AWAIT_COPIES_MS`.
   */
  readonly awaitCopiesMs?: number;
  /** The most such ids kept; beyond it the oldest go, with a warning. Default `MAX_AWAITED_IDS`. */
  readonly maxAwaitedIds?: number;
  /**
   * The most ids of records the log let go that are still known, the newest; a copy of one of
   * them is dropped. Default `MAX_ACKNOWLEDGED_IDS`.
   */
  readonly maxAcknowledgedIds?: number;
  /**
   * How long before a lost connection its acknowledgements may already have been dying: the ids
   * of records logged or let go from the log within that time are awaited from then on (see
   * `connectionLost`). Default `UNCONFIRMED_ACKNOWLEDGEMENTS_MS`.
   */
  readonly unconfirmedAcknowledgementsMs?: number;
  /** The wall clock measuring that running time. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The recovery bookkeeping of one connector source: what each batch took (per partition, the
 * number of records and the last offset; or the write-ahead log entries), the offsets up to the
 * last checkpoint, and the replay of the batches generated after it. A replayable source is asked
 * to `seek` back to the checkpoint; a source that cannot replay writes what it receives to the
 * write-ahead log before it is acknowledged. A replayable source whose acknowledgements matter
 * (`acknowledgements: "after-output"`) is acknowledged only once a checkpoint covers its records,
 * and copies of records it holds that the external system delivers again are dropped.
 *
 * @example
 * const ledger = new SourceLedger({ name: "source:file#1", wal: undefined, recovered, replays, ... });
 * await ledger.beforeStart(source);
 */
export class SourceLedger {
  readonly name: string;
  readonly #options: SourceLedgerOptions;
  readonly #wal: WriteAheadLog | undefined;
  readonly #held: HeldBlock[] = [];
  readonly #extents = new Map<number, InputExtent>();
  readonly #offsets: Map<string, string>;
  readonly #arrived = new Wakeup();
  /** Ids of the records in the log, with their entry (see `SourceStreamOptions.recordId`). */
  readonly #loggedIds = new Map<string, number>();
  /**
   * Ids of records logged before a crash whose copies the broker may still send: those read
   * back from the log at start that no checkpoint covered, those the checkpoint recovered from
   * still awaited, and those logged or let go from the log shortly before a lost connection
   * (`connectionLost`). The run that logged them may have died before their acknowledgement
   * reached the broker, which then sends them again at any time (when a consumer connects,
   * say), possibly after this run's checkpoints let their entries go and this run died too:
   * they stay known, and go into every checkpoint, until a copy came or `awaitCopiesMs` of
   * running time passed, so a late copy is still dropped by a later run.
   */
  readonly #awaitedIds = new Map<string, AwaitedId>();
  /**
   * Ids of records whose log entries checkpoints let go, oldest first, at most
   * `maxAcknowledgedIds`, with when they were let go (the ledger's clock). Their
   * acknowledgement went out when they were logged, but one sent just before a lost connection
   * may never have reached the broker, which sends the record again once the source reconnects
   * — after checkpoints let its entry go, when the connection stayed down longer than a
   * checkpoint interval.
   */
  readonly #acknowledgedIds = new Map<string, number>();
  /** When this run opened the log: its running time so far is measured from here. */
  #startedAt: number;
  /**
   * Since when the source's connection is down (the ledger's clock), and how long it was down
   * before: that time does not count toward `awaitCopiesMs` (the broker sends the copies once
   * the source reconnects, however long that takes).
   */
  #downSince: number | undefined;
  #downMs = 0;
  /**
   * Acknowledged offsets: per `partition\0offset`, the batch that took the record (or
   * `undefined` while it waits for one), for the records a copy of which must be dropped — those
   * not yet acknowledged, and those acknowledged after the latest checkpoint (the acknowledgement
   * may still be on its way to the external system).
   */
  readonly #heldOffsets = new Map<string, number | undefined>();
  /**
   * The acknowledgement of the first read that brought nothing since the last checkpoint's
   * acknowledgements (a replayable source), for the next ones: settled earlier, it could commit
   * outputs of batches no checkpoint covers yet (a Kafka sink paired with its source commits its
   * open transaction).
   */
  #idleAck: ((error?: unknown) => void) | undefined;
  #previousCheckpoint = Number.NEGATIVE_INFINITY;
  #walSequence: number | undefined;
  #duplicatesDropped = 0;
  /** Set once checkpointing failed for good: nothing is acknowledged or tracked any more. */
  #abandoned = false;

  constructor(options: SourceLedgerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#wal = options.wal;
    this.#offsets = new Map(options.recovered?.offsets ?? []);
    this.#walSequence = options.recovered?.walSequence;
    this.#startedAt = this.#now();
    if (options.wal !== undefined && options.recordId !== undefined) {
      for (const [id, earlierMs] of options.recovered?.awaitedIds ?? []) {
        this.#awaitedIds.set(id, { earlierMs, sinceMs: undefined, seenAfter: undefined });
      }
    }
    // A record at the checkpointed offset is in the checkpoint: a copy of it is one too many.
    if (this.#dropsCopiesByOffset) {
      for (const [partition, offset] of this.#offsets) {
        this.#heldOffsets.set(offsetKey(partition, offset), Number.NEGATIVE_INFINITY);
      }
    }
  }

  /** How the source's records survive a crash. */
  get delivery(): SourceDelivery {
    return this.#options.delivery ?? (this.#wal === undefined ? "offsets" : "log");
  }

  get #dropsCopiesByOffset(): boolean {
    return this.delivery === "acknowledged-offsets";
  }

  /** True when the source's records go through the write-ahead log. */
  get writesAhead(): boolean {
    return this.#wal !== undefined;
  }

  /**
   * Redelivered copies that were dropped: of records already in the log, or (acknowledged
   * offsets) of records held and not yet acknowledged.
   */
  get duplicatesDropped(): number {
    return this.#duplicatesDropped;
  }

  /**
   * Before the source connects: a replayable source seeks back to the checkpoint; the log of a
   * source that cannot replay is opened and what it holds after the checkpoint is queued.
   *
   * @example
   * await ledger.beforeStart(source);
   */
  async beforeStart(source: Source): Promise<void> {
    const wal = this.#wal;
    if (wal === undefined) {
      if (this.#options.recovered === undefined && this.#options.replays.size === 0) return;
      if (typeof source.seek !== "function") {
        throw new SluiceError(
          "SLUICE_SOURCE_NOT_SEEKABLE",
          `source ${this.name} declares replayable: true but has no seek(offsets) method, so it cannot resume from the checkpoint; implement seek (docs/connectors.md) or declare replayable: false to go through the write-ahead log`,
        );
      }
      await source.seek(new Map(this.#offsets), {
        firstRunStartedAtMs: this.#options.firstStartedAt,
      });
      return;
    }
    const after = this.#walSequence ?? 0;
    // Numbering continues after the checkpoint's last entry even when the log is empty: entries
    // at or below it are skipped on recovery and truncated by the next checkpoints.
    const { entries, damaged, removedEmpty } = await wal.open({ after });
    for (const file of damaged) {
      this.#options.logger.warn(
        { input: this.name, file },
        "a write-ahead log segment ends in a torn entry (a crash during a write); the entry was never acknowledged and is ignored",
      );
    }
    for (const file of removedEmpty) {
      this.#options.logger.info(
        { input: this.name, file },
        "removed a write-ahead log segment that a crash left without entries",
      );
    }
    for (const entry of entries) {
      const logged = loggedBlock(entry.payload, entry.sequence);
      if (logged.columns === undefined) {
        // Entries the checkpoint covers were acknowledged a batch or more before the crash.
        this.#rememberIds(logged.records, entry.sequence, entry.sequence > after);
      }
      if (entry.sequence <= after) continue;
      this.#held.push(logged);
    }
    this.#capAwaitedIds();
    this.#startedAt = this.#readingTime();
  }

  /**
   * Takes records read from the source. Replayable: held until a batch takes them, settled once
   * that batch is checkpointed. Otherwise: written to the log first, then settled at once (the log
   * now answers for them); a failed write nacks them and rejects (`SLUICE_DISK_FULL` ...).
   * Resolves with the records kept (redelivered copies of logged records are dropped).
   *
   * @example
   * await ledger.receive(result.records, (error) => settle(result, error), signal);
   */
  async receive(
    records: readonly SourceRecord[] | SourceRecordColumns,
    settle: (error?: unknown) => void,
    signal: AbortSignal,
  ): Promise<readonly SourceRecord[] | SourceRecordColumns> {
    const wal = this.#wal;
    if (records instanceof SourceRecordColumns) {
      // A byte batch is logged as one entry of its columns (its blob in one write) when no
      // record ids are watched for copies; otherwise record by record.
      if (wal !== undefined && this.#options.recordId === undefined) {
        return this.#logColumns(wal, records, settle, signal);
      }
      if (wal === undefined && !this.#dropsCopiesByOffset) {
        // A replayable source's byte batch is held as it is, until a batch takes it.
        this.#held.push(heldColumns(records, undefined, settle));
        this.#arrived.notify();
        return records;
      }
      return this.receive(records.records(), settle, signal);
    }
    if (wal === undefined) {
      const kept =
        this.#dropsCopiesByOffset && !this.#abandoned
          ? this.#withoutHeldCopies(records)
          : [...records];
      // A result of nothing but copies is still held: its acknowledgement (which acknowledges
      // the originals in the external system too) waits for the batch after the originals'.
      this.#held.push({ records: kept, ack: settle, sequence: undefined });
      this.#arrived.notify();
      return kept;
    }
    const fresh = this.#withoutLoggedCopies(records);
    if (fresh.length === 0) {
      settle();
      return fresh;
    }
    let sequence: number;
    try {
      const payload = serialize(fresh);
      await wal.waitForRoom(payload.byteLength, signal);
      sequence = await wal.append(payload);
    } catch (error) {
      settle(error);
      throw error;
    }
    this.#rememberIds(fresh, sequence);
    settle();
    this.#held.push({ records: fresh, ack: undefined, sequence });
    this.#arrived.notify();
    return fresh;
  }

  /**
   * Takes a read that brought nothing. A source that cannot replay has it settled at once (its
   * acknowledgements only say what the log holds). A replayable source's waits for the next
   * checkpoint's acknowledgements (`takeIdleAcknowledgement`), like the reads of the batches
   * it covers; of several such reads in between, only the first is kept and settled, so an
   * idle source holds one acknowledgement however long it stays idle. The first, because a
   * source judges by the reads before it: a paired Kafka source does not commit on an empty
   * read while a read with records handed out before it is unacknowledged, and records read
   * after the checkpoint's batch was cut must not hold back the commit of what it covers.
   *
   * @example
   * ledger.receiveNothing((error) => settle(result, error));
   */
  receiveNothing(settle: (error?: unknown) => void): void {
    if (this.#wal !== undefined) {
      settle();
      return;
    }
    if (!this.#abandoned) this.#idleAck ??= settle;
  }

  /**
   * Checkpointing failed for good (a batch record could not be written, or a batch failed): no
   * checkpoint is written and nothing acknowledged any more until the job restarts, which
   * replays from the last checkpoint — a replayable source from the checkpoint's offsets (it
   * delivers again what it still holds unacknowledged), a source that cannot replay from its
   * write-ahead log, which keeps logging (bounded by its size). So the ledger stops tracking:
   * the acknowledgements it holds or handed out with batches are dropped unsettled (those
   * handed out become no-ops, so an input may let their batches go), and from now on no batch's
   * extent and no offset watched for copies is kept. Memory stays bounded however long the job
   * keeps running. (A copy an after-output source delivers again is then processed again by
   * this run; the restart outputs it once.)
   *
   * @example
   * ledger.abandonAcknowledgements();
   */
  abandonAcknowledgements(): void {
    this.#abandoned = true;
    this.#extents.clear();
    this.#heldOffsets.clear();
    this.#idleAck = undefined;
  }

  /**
   * What the ledger keeps track of now: batches not yet folded into a checkpoint, offsets
   * watched for copies and reads waiting for a batch (bounded once checkpointing failed).
   *
   * @example
   * ledger.trackedEntries; // 3
   */
  get trackedEntries(): number {
    return this.#extents.size + this.#heldOffsets.size + this.#held.length;
  }

  /**
   * The acknowledgement kept of the reads that brought nothing, once: for the acknowledgements
   * a written checkpoint allows.
   *
   * @example
   * ledger.takeIdleAcknowledgement()?.();
   */
  takeIdleAcknowledgement(): ((error?: unknown) => void) | undefined {
    const ack = this.#idleAck;
    this.#idleAck = undefined;
    return ack;
  }

  /** Acknowledgements this ledger holds: of reads waiting for a batch, and of an idle read. */
  get heldAcknowledgements(): number {
    let held = this.#idleAck === undefined ? 0 : 1;
    for (const block of this.#held) if (block.ack !== undefined) held++;
    return held;
  }

  async #logColumns(
    wal: WriteAheadLog,
    columns: SourceRecordColumns,
    settle: (error?: unknown) => void,
    signal: AbortSignal,
  ): Promise<SourceRecordColumns> {
    if (columns.length === 0) {
      settle();
      return columns;
    }
    let sequence: number;
    try {
      const payload = serialize(columnsPayload(columns));
      await wal.waitForRoom(payload.byteLength, signal);
      sequence = await wal.append(payload);
    } catch (error) {
      settle(error);
      throw error;
    }
    settle();
    this.#held.push(heldColumns(columns, sequence));
    this.#arrived.notify();
    return columns;
  }

  /** True while records wait for a batch. */
  hasPending(): boolean {
    return this.#held.some((block) => (block.columns ?? block.records).length > 0);
  }

  /**
   * The records of the batch at `time`: exactly those the batch held before the crash when it is
   * replayed, else everything received — grouped by partition (in order of first arrival) so a
   * replay reproduces the batch record for record.
   *
   * @example
   * const blocks = await ledger.takeBatch(4000);
   */
  async takeBatch(time: number): Promise<ReceivedBlock<SourceRecord>[]> {
    const replay = this.#options.replays.get(time);
    let taken = replay === undefined ? this.#takeAll() : await this.#takeReplay(time, replay);
    if (this.#wal === undefined && taken.columns !== undefined) {
      // Grouped by partition as records are (what a replay reproduces), as columns when every
      // partition's rows of each byte batch are one run (a Kafka read's are).
      const grouped = groupColumnsByPartition(taken.columns);
      taken =
        grouped === undefined
          ? {
              ...taken,
              records: taken.columns.flatMap((piece) => piece.records()),
              columns: undefined,
            }
          : { ...taken, columns: grouped };
    }
    const records =
      this.#wal === undefined
        ? groupByPartition(taken.records)
        : taken.columns === undefined
          ? taken.records
          : [];
    if (this.#abandoned) {
      // Nothing will be acknowledged or checkpointed: the batch goes without bookkeeping.
      if (records.length === 0 && taken.columns === undefined) return [];
      return taken.columns === undefined
        ? [{ records }]
        : taken.columns.map((columns) => columnsBlock(columns, undefined));
    }
    if (this.#dropsCopiesByOffset) {
      for (const record of records)
        this.#heldOffsets.set(offsetKey(record.partition, record.offset), time);
    }
    this.#extents.set(time, {
      name: this.name,
      partitions:
        this.#wal !== undefined
          ? []
          : taken.columns === undefined
            ? extentOf(records)
            : extentOfColumns(taken.columns),
      wal:
        taken.sequences.length === 0
          ? undefined
          : [taken.sequences[0] as number, taken.sequences.at(-1) as number],
    });
    if (records.length === 0 && taken.columns === undefined && taken.acks.length === 0) return [];
    let acks = taken.acks;
    const ack = (error?: unknown) => {
      // Dropped once checkpointing failed for good: only a restart's replay settles them.
      if (this.#abandoned) {
        acks = [];
        return;
      }
      for (const settle of acks) settle(error);
    };
    if (taken.columns !== undefined) {
      // Byte batches stay columns; the first carries the acknowledgement of them all.
      return taken.columns.map((columns, index) =>
        columnsBlock(columns, index === 0 ? ack : undefined),
      );
    }
    return [{ records, ack }];
  }

  /** What the batch at `time` took, for the record written before it runs. */
  extentOf(time: number): InputExtent | undefined {
    return this.#extents.get(time);
  }

  /**
   * Where the input stands once every batch up to `time` is done: folded into the offsets the
   * checkpoint at `time` stores.
   *
   * @example
   * const input = ledger.checkpointAt(5000);
   */
  checkpointAt(time: number): InputCheckpoint {
    for (const [batchTime, extent] of [...this.#extents].sort(([a], [b]) => a - b)) {
      if (batchTime > time) break;
      for (const [partition, , lastOffset] of extent.partitions) {
        this.#offsets.set(partition, lastOffset);
      }
      if (extent.wal !== undefined) this.#walSequence = extent.wal[1];
      this.#extents.delete(batchTime);
    }
    const awaitedIds = this.#stillAwaited();
    return {
      name: this.name,
      offsets: new Map(this.#offsets),
      walSequence: this.#walSequence,
      ...(awaitedIds.size === 0 ? {} : { awaitedIds }),
    };
  }

  /**
   * The checkpoint at `time` was written (its acknowledgements go out now). Copies of what the
   * previous written checkpoint covered are no longer watched for: its acknowledgements went
   * out a whole checkpoint ago. A checkpoint that could not be written acknowledged nothing, so
   * what it would have covered stays watched until one that is written acknowledges it.
   *
   * @example
   * ledger.checkpointWritten(5000);
   */
  checkpointWritten(time: number): void {
    // The newest offset per partition stays (a copy of the record at seek's position is one
    // too many after a recovery too).
    const latest = new Set(
      [...this.#offsets].map(([partition, offset]) => offsetKey(partition, offset)),
    );
    for (const [key, batchTime] of this.#heldOffsets) {
      if (batchTime !== undefined && batchTime <= this.#previousCheckpoint && !latest.has(key)) {
        this.#heldOffsets.delete(key);
      }
    }
    this.#previousCheckpoint = time;
  }

  /**
   * Lets the log go up to the entries the oldest kept checkpoint no longer needs.
   *
   * @example
   * await ledger.truncateThrough(oldest.walSequence);
   */
  async truncateThrough(sequence: number | undefined): Promise<void> {
    if (this.#wal === undefined || sequence === undefined) return;
    await this.#wal.truncateThrough(sequence);
    const max = this.#options.maxAcknowledgedIds ?? MAX_ACKNOWLEDGED_IDS;
    const now = this.#now();
    for (const [id, logged] of this.#loggedIds) {
      if (logged > sequence) continue;
      this.#loggedIds.delete(id);
      if (max > 0) this.#acknowledgedIds.set(id, now);
    }
    for (const id of this.#acknowledgedIds.keys()) {
      if (this.#acknowledgedIds.size <= max) break;
      this.#acknowledgedIds.delete(id);
    }
  }

  /**
   * The source lost its connection: acknowledgements sent on it lately may have died with it,
   * and the broker then sends those records again — once the source reconnects, or to the next
   * run if this one dies first, after checkpoints let their entries go. The ids of the records
   * in the log and of those it let go within `unnoticedMs` (how long the source's dead
   * connection can go unnoticed, `Source.deadConnectionTimeoutMs`; default
   * `unconfirmedAcknowledgementsMs`) are awaited from now on, so they go into every checkpoint
   * until a copy came or the awaited time passed (as those read back from the log after a
   * crash).
   *
   * @example
   * new SourceSession(source, { onConnectionLost: () => ledger.connectionLost(90_000) });
   */
  connectionLost(unnoticedMs?: number): void {
    const now = this.#now();
    this.#downSince ??= now;
    if (this.#wal === undefined || this.#options.recordId === undefined || this.#abandoned) return;
    const window =
      unnoticedMs !== undefined && Number.isFinite(unnoticedMs) && unnoticedMs >= 0
        ? unnoticedMs
        : (this.#options.unconfirmedAcknowledgementsMs ?? UNCONFIRMED_ACKNOWLEDGEMENTS_MS);
    const since = now - window;
    const reading = this.#readingTime();
    const awaitCopy = (id: string): void => {
      if (!this.#awaitedIds.has(id)) {
        this.#awaitedIds.set(id, { earlierMs: 0, sinceMs: reading, seenAfter: undefined });
      }
    };
    // Strictly within: with a window of 0 (a loss noticed at once) nothing let go is awaited.
    for (const [id, letGoAt] of this.#acknowledgedIds) if (letGoAt > since) awaitCopy(id);
    for (const id of this.#loggedIds.keys()) awaitCopy(id);
    this.#capAwaitedIds();
  }

  /** Closes the log. */
  async close(): Promise<void> {
    await this.#wal?.close();
  }

  #rememberIds(records: readonly SourceRecord[], sequence: number, awaited = false): void {
    const recordId = this.#options.recordId;
    if (recordId === undefined) return;
    for (const record of records) {
      const id = recordId(record);
      if (id === undefined) continue;
      this.#loggedIds.set(id, sequence);
      if (awaited && !this.#awaitedIds.has(id)) {
        this.#awaitedIds.set(id, { earlierMs: 0, sinceMs: undefined, seenAfter: undefined });
      }
    }
  }

  /**
   * The source (re)connected: the time its connection was down stops counting toward
   * `awaitCopiesMs` there.
   *
   * @example
   * new SourceSession(source, { onConnected: () => ledger.connected() });
   */
  connected(): void {
    if (this.#downSince === undefined) return;
    this.#downMs += this.#now() - this.#downSince;
    this.#downSince = undefined;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** The ledger's clock less the time the source's connection was down. */
  #readingTime(): number {
    const now = this.#now();
    return now - this.#downMs - (this.#downSince === undefined ? 0 : now - this.#downSince);
  }

  // The ids the checkpoint being written keeps awaiting, with the running time each has been
  // awaited; those whose copy was dropped a whole checkpoint ago, or awaited `awaitCopiesMs`,
  // are forgotten.
  #stillAwaited(): Map<string, number> {
    const kept = new Map<string, number>();
    if (this.#awaitedIds.size === 0) return kept;
    const limit = this.#options.awaitCopiesMs ?? AWAIT_COPIES_MS;
    const reading = this.#readingTime();
    let expired = 0;
    for (const [id, awaited] of this.#awaitedIds) {
      if (awaited.seenAfter !== undefined && awaited.seenAfter < this.#previousCheckpoint) {
        this.#awaitedIds.delete(id);
        continue;
      }
      const awaitedMs =
        awaited.earlierMs + Math.max(0, reading - (awaited.sinceMs ?? this.#startedAt));
      if (awaitedMs >= limit) {
        this.#awaitedIds.delete(id);
        if (awaited.seenAfter === undefined) expired++;
        continue;
      }
      kept.set(id, awaitedMs);
    }
    if (expired > 0) {
      this.#options.logger.info(
        { input: this.name, forgotten: expired, afterMs: limit },
        "no copy came of records logged before a crash within the time a broker takes to send them again (their acknowledgement reached it): their ids are forgotten",
      );
    }
    return kept;
  }

  // Crash after crash, each adds the ids of what it logged after its last checkpoint: the oldest
  // beyond the cap go, so the state a checkpoint carries stays bounded.
  #capAwaitedIds(): void {
    const max = this.#options.maxAwaitedIds ?? MAX_AWAITED_IDS;
    const excess = this.#awaitedIds.size - max;
    if (excess <= 0) return;
    let forgotten = 0;
    for (const id of this.#awaitedIds.keys()) {
      if (forgotten === excess) break;
      this.#awaitedIds.delete(id);
      forgotten++;
    }
    this.#options.logger.warn(
      { input: this.name, forgotten, kept: max },
      `forgot the ids of ${forgotten} records logged before a crash or a lost connection whose copies had not come yet, to keep at most ${max}: a copy of one of them that the broker still sends is counted twice`,
    );
  }

  // A copy of a record already in the log, logged before a crash (awaited), or let go from the
  // log lately: its acknowledgement was lost (a crash between the log write and the broker
  // receiving the ack, or a lost connection), so the broker sent it again.
  #withoutLoggedCopies(records: readonly SourceRecord[]): SourceRecord[] {
    const recordId = this.#options.recordId;
    if (
      recordId === undefined ||
      (this.#loggedIds.size === 0 &&
        this.#awaitedIds.size === 0 &&
        this.#acknowledgedIds.size === 0)
    ) {
      return [...records];
    }
    const fresh = records.filter((record) => {
      const id = recordId(record);
      if (id === undefined) return true;
      const awaited = this.#awaitedIds.get(id);
      if (awaited !== undefined) awaited.seenAfter = this.#previousCheckpoint;
      return awaited === undefined && !this.#loggedIds.has(id) && !this.#acknowledgedIds.has(id);
    });
    if (fresh.length < records.length) {
      this.#duplicatesDropped += records.length - fresh.length;
      this.#options.logger.info(
        { input: this.name, dropped: records.length - fresh.length },
        "dropped redelivered records that were already written to the write-ahead log",
      );
    }
    return fresh;
  }

  // A copy of a record held since it was read, or in a batch not yet acknowledged: the external
  // system delivered it again (an acknowledgement deadline passed, a consumer's pending entries
  // were claimed again) while its batch waits for output and checkpoint.
  #withoutHeldCopies(records: readonly SourceRecord[]): SourceRecord[] {
    const fresh: SourceRecord[] = [];
    for (const record of records) {
      const key = offsetKey(record.partition, record.offset);
      if (this.#heldOffsets.has(key)) continue;
      this.#heldOffsets.set(key, undefined);
      fresh.push(record);
    }
    if (fresh.length < records.length) {
      this.#duplicatesDropped += records.length - fresh.length;
      this.#options.logger.info(
        { input: this.name, dropped: records.length - fresh.length },
        "dropped records the source delivered again while their first delivery was not yet acknowledged",
      );
    }
    return fresh;
  }

  #takeAll(): Taken {
    const blocks = this.#held.splice(0);
    return {
      ...takenRecords(blocks),
      acks: blocks.flatMap((block) => (block.ack === undefined ? [] : [block.ack])),
      sequences: blocks.flatMap((block) => (block.sequence === undefined ? [] : [block.sequence])),
    };
  }

  async #takeReplay(time: number, replay: InputExtent): Promise<Taken> {
    const signal = new AbortController().signal;
    // The log's entries were all read at start; a replayable source delivers its records again.
    const deadline = Date.now() + (this.#wal === undefined ? this.#options.replayTimeoutMs : 0);
    while (!this.#replayAvailable(replay) && Date.now() < deadline) {
      await this.#arrived.wait(signal, Math.max(1, deadline - Date.now()));
    }
    return this.#wal === undefined
      ? this.#takeByOffsets(time, replay)
      : this.#takeBySequence(time, replay);
  }

  #replayAvailable(replay: InputExtent): boolean {
    if (replay.wal !== undefined) {
      const [, last] = replay.wal;
      return this.#held.some((block) => block.sequence !== undefined && block.sequence >= last);
    }
    const counts = new Map<string, number>();
    for (const block of this.#held) {
      for (const record of block.records) {
        counts.set(record.partition, (counts.get(record.partition) ?? 0) + 1);
      }
    }
    return replay.partitions.every(([partition, count]) => (counts.get(partition) ?? 0) >= count);
  }

  #takeByOffsets(time: number, replay: InputExtent): Taken {
    const records: SourceRecord[] = [];
    for (const [partition, count, lastOffset] of replay.partitions) {
      const taken: SourceRecord[] = [];
      for (const block of this.#held) {
        if (taken.length === count) break;
        const kept: SourceRecord[] = [];
        for (const record of block.records) {
          if (taken.length < count && record.partition === partition) taken.push(record);
          else kept.push(record);
        }
        block.records = kept;
      }
      if (taken.length < count) {
        this.#options.onReplayProblem(
          `batch ${time}: ${this.name} partition "${partition}" delivered ${taken.length} of the ${count} records it held before the crash`,
        );
      } else if (taken.at(-1)?.offset !== lastOffset) {
        this.#options.onReplayProblem(
          `batch ${time}: ${this.name} partition "${partition}" replayed up to offset ${taken.at(-1)?.offset}, not ${lastOffset} as before the crash`,
        );
      }
      records.push(...taken);
    }
    // Reads whose every record is now in a batch are settled once this batch is checkpointed.
    const acks: ((error?: unknown) => void)[] = [];
    while (this.#held.length > 0 && (this.#held[0] as HeldBlock).records.length === 0) {
      const done = this.#held.shift() as HeldBlock;
      if (done.ack !== undefined) acks.push(done.ack);
    }
    return { records, acks, sequences: [] };
  }

  #takeBySequence(time: number, replay: InputExtent): Taken {
    if (replay.wal === undefined) return { records: [], acks: [], sequences: [] };
    const [first, last] = replay.wal;
    const blocks = this.#held.filter(
      (block) => block.sequence !== undefined && block.sequence >= first && block.sequence <= last,
    );
    const expected = last - first + 1;
    if (blocks.length !== expected) {
      this.#options.onReplayProblem(
        `batch ${time}: ${this.name} found ${blocks.length} of its ${expected} write-ahead log entries`,
      );
    }
    for (const block of blocks) this.#held.splice(this.#held.indexOf(block), 1);
    return {
      ...takenRecords(blocks),
      acks: [],
      sequences: blocks.map((block) => block.sequence as number),
    };
  }
}

interface Taken {
  readonly records: SourceRecord[];
  /** The records as byte batches, when every block taken that holds any came as one. */
  readonly columns?: SourceRecordColumns[] | undefined;
  readonly acks: ((error?: unknown) => void)[];
  readonly sequences: number[];
}

/** The records of `blocks` in order: as byte batches when every block holding some is one. */
function takenRecords(blocks: readonly HeldBlock[]): Pick<Taken, "records" | "columns"> {
  const filled = blocks.filter((block) => (block.columns ?? block.records).length > 0);
  if (filled.length > 0 && filled.every((block) => block.columns !== undefined)) {
    return { records: [], columns: filled.map((block) => block.columns as SourceRecordColumns) };
  }
  return { records: blocks.flatMap((block) => block.records) };
}

/**
 * A held block of a byte batch whose records are made only if something reads them; once its
 * records are replaced (a replay took some), it is records only.
 */
function heldColumns(
  columns: SourceRecordColumns,
  sequence: number | undefined,
  ack?: (error?: unknown) => void,
): HeldBlock {
  let records: SourceRecord[] | undefined;
  let whole: SourceRecordColumns | undefined = columns;
  return {
    get columns(): SourceRecordColumns | undefined {
      return whole;
    },
    get records(): SourceRecord[] {
      records ??= columns.records();
      return records;
    },
    set records(value: SourceRecord[]) {
      records = value;
      whole = undefined;
    },
    ack,
    sequence,
  };
}

/**
 * Byte batches regrouped by partition, partitions in order of first arrival, each partition's
 * rows in arrival order (what `groupByPartition` does to records); `undefined` when a batch
 * holds a partition's rows in more than one run.
 */
function groupColumnsByPartition(
  pieces: readonly SourceRecordColumns[],
): SourceRecordColumns[] | undefined {
  const groups = new Map<string, SourceRecordColumns[]>();
  const add = (partition: string, piece: SourceRecordColumns): void => {
    const group = groups.get(partition);
    if (group === undefined) groups.set(partition, [piece]);
    else group.push(piece);
  };
  for (const piece of pieces) {
    const { partitions } = piece;
    if (partitions === undefined) {
      add(piece.partition, piece);
      continue;
    }
    const { ofRow, names } = partitions;
    const seen = new Set<number>();
    let start = 0;
    for (let row = 1; row <= piece.length; row++) {
      if (row < piece.length && ofRow[row] === ofRow[start]) continue;
      const index = ofRow[start] as number;
      if (seen.has(index)) return undefined;
      seen.add(index);
      add(names[index] as string, piece.slice(start, row));
      start = row;
    }
  }
  return [...groups.values()].flat();
}

/** What `extentOf` says of the records of byte batches grouped by partition. */
function extentOfColumns(pieces: readonly SourceRecordColumns[]): [string, number, string][] {
  const extent: [string, number, string][] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    const last = extent.at(-1);
    const lastOffset = piece.lastOffset as string;
    if (last !== undefined && last[0] === piece.partition) {
      last[1] += piece.length;
      last[2] = lastOffset;
    } else {
      extent.push([piece.partition, piece.length, lastOffset]);
    }
  }
  return extent;
}

function columnsBlock(
  columns: SourceRecordColumns,
  ack: ((error?: unknown) => void) | undefined,
): ReceivedBlock<SourceRecord> {
  const block = {
    columns,
    get records(): readonly SourceRecord[] {
      return columns.records();
    },
  };
  return ack === undefined ? block : Object.assign(block, { ack });
}

/**
 * What the log holds of a byte batch: its columns (keys, headers and partitions included), each
 * typed array exactly its own bytes.
 */
interface ColumnsPayload {
  readonly columns: SourceRecordColumnsInit;
}

function columnsPayload(columns: SourceRecordColumns): ColumnsPayload {
  const fields = columns.fields();
  const { timestampMs, keys, partitions, tombstones } = fields;
  return {
    columns: {
      ...fields,
      bytes: ownBytes(fields.bytes),
      valueOffsets: ownBytes(fields.valueOffsets),
      timestampMs: typeof timestampMs === "number" ? timestampMs : ownBytes(timestampMs),
      offsets: ownOffsets(fields.offsets),
      ...(keys === undefined
        ? {}
        : {
            keys: {
              ...keys,
              bytes: ownBytes(keys.bytes),
              offsets: ownBytes(keys.offsets),
              ...(keys.present === undefined ? {} : { present: ownBytes(keys.present) }),
            },
          }),
      ...(partitions === undefined
        ? {}
        : { partitions: { names: [...partitions.names], ofRow: ownBytes(partitions.ofRow) } }),
      ...(tombstones === undefined ? {} : { tombstones: ownBytes(tombstones) }),
    },
  };
}

function ownOffsets(offsets: ColumnOffsets): ColumnOffsets {
  return offsets.kind === "positions"
    ? { kind: "positions", positions: ownBytes(offsets.positions) }
    : offsets;
}

// v8's serializer writes a view's whole buffer: a view into a larger one is copied first.
function ownBytes<T extends Uint8Array | Uint32Array | Float64Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength
    ? array
    : (array.slice() as T);
}

/** A log entry read back: records (an array) or a byte batch (its columns). */
function loggedBlock(payload: Uint8Array, sequence: number): HeldBlock {
  const value = deserialize(payload) as SourceRecord[] | ColumnsPayload;
  if (Array.isArray(value)) return { records: value, ack: undefined, sequence };
  return heldColumns(new SourceRecordColumns(value.columns), sequence);
}

function offsetKey(partition: string, offset: string): string {
  return `${partition}\u0000${offset}`;
}

/** Records grouped by partition, partitions in order of first arrival, records in arrival order. */
function groupByPartition(records: readonly SourceRecord[]): SourceRecord[] {
  const groups = new Map<string, SourceRecord[]>();
  for (const record of records) {
    const group = groups.get(record.partition);
    if (group === undefined) groups.set(record.partition, [record]);
    else group.push(record);
  }
  return [...groups.values()].flat();
}

function extentOf(records: readonly SourceRecord[]): [string, number, string][] {
  const extent: [string, number, string][] = [];
  for (const record of records) {
    const last = extent.at(-1);
    if (last !== undefined && last[0] === record.partition) {
      last[1]++;
      last[2] = record.offset;
    } else {
      extent.push([record.partition, 1, record.offset]);
    }
  }
  return extent;
}
