import type { SourceRecordColumns } from "./record-columns.js";
import type { SourceRecord } from "./records.js";

/**
 * What one `Source.read` returns: the records, and the one call that settles them.
 *
 * @example
 * const { records, ack } = await source.read(signal);
 * try { await output(records); await ack(); } catch (error) { await ack(error); }
 */
export interface ReadResult {
  /** The records read, in the order the source received them; may be empty. */
  readonly records: readonly SourceRecord[];
  /**
   * The same records as columns (a byte batch), when the source made them so: Sluice then
   * reads the columns and `records` is made only if something needs record objects.
   */
  readonly columns?: SourceRecordColumns;
  /**
   * Settles the records, once. Without an argument: the batch holding them was output and
   * checkpointed, the source may forget them (commit offsets, answer the sender). With an
   * error: a nack, the source must deliver the same records again on a later `read`.
   */
  ack(error?: unknown): void | Promise<void>;
}

/**
 * What a source declares about itself; it decides how Sluice makes its records survive a crash.
 *
 * @example
 * const capabilities: SourceCapabilities = { replayable: true, acknowledgements: "after-output" };
 */
export interface SourceCapabilities {
  /**
   * True when the external system keeps records after they were read and can deliver them
   * again from an offset (Kafka, files): Sluice checkpoints offsets. False (sockets, MQTT,
   * RabbitMQ, webhooks): Sluice writes received records to its write-ahead log before it
   * acknowledges them.
   */
  readonly replayable: boolean;
  /**
   * Replayable sources only: what an acknowledgement means to the external system.
   * `"informational"` (the default; Kafka, files): a committed offset Sluice never reads back,
   * since recovery seeks to the checkpoint. `"after-output"` (Redis Streams consumer groups, NATS
   * JetStream, Pulsar): the system also keeps per-record acknowledgement state that matters —
   * it redelivers what is unacknowledged, or deletes what is acknowledged — so Sluice
   * acknowledges a result only once the batch holding its records was output and checkpointed,
   * `seek` also acknowledges what the checkpoint covers, and copies the system redelivers while
   * Sluice still holds the records are dropped (docs/connectors.md, 2.6).
   */
  readonly acknowledgements?: "informational" | "after-output";
}

/**
 * How Sluice makes a source's records survive a crash: `"offsets"` (replayable, acknowledgements
 * informational), `"log"` (not replayable: the write-ahead log, acknowledged once logged) or
 * `"acknowledged-offsets"` (replayable, acknowledged only after output and checkpoint).
 *
 * @example
 * const delivery: SourceDelivery = sourceDelivery({ replayable: true, acknowledgements: "after-output" });
 */
export type SourceDelivery = "offsets" | "log" | "acknowledged-offsets";

/**
 * The delivery mode a source's capabilities declare.
 *
 * @example
 * sourceDelivery({ replayable: false }); // "log"
 */
export function sourceDelivery(capabilities: SourceCapabilities): SourceDelivery {
  if (!capabilities.replayable) return "log";
  return capabilities.acknowledgements === "after-output" ? "acknowledged-offsets" : "offsets";
}

/**
 * A running source connector. The full contract, with when and how often each method is
 * called and what its errors mean, is in docs/connectors.md.
 *
 * @example
 * await source.connect(signal);
 * const result = await source.read(signal);
 * await result.ack();
 * await source.close();
 */
export interface Source {
  /**
   * Opens the connection. Called before the first `read` and again after a `read` or
   * `connect` failed with `NotConnectedError` (with backoff between attempts).
   */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Waits for records and returns those available (possibly none). Called in a loop by one
   * caller at a time; several results may be unacknowledged at once. `options.maxRecords` is
   * flow control's hint: return at most that many (sources that ignore it still work, the
   * surplus counts against the next batch's allowance).
   */
  read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult>;
  /** Stops fetching from the external system (backpressure); a pending `read` settles soon. */
  pause(): void;
  /** Fetches again after `pause`. */
  resume(): void;
  /** Releases everything; idempotent; a pending `read` settles. */
  close(): Promise<void>;
  /**
   * Replayable sources: resume after `offsets` (the last offset used per partition, from the
   * checkpoint a job recovers from) instead of where a first run starts. Called at most once,
   * before the first `connect`, and only when a job recovers; it wins over
   * `SourceContext.committedOffsets` and over what the external system committed. Partitions
   * absent from `offsets` gave no record before the checkpoint: start them as a first run begun
   * at `options.firstRunStartedAtMs` would (with `startAt: "latest"`, only what arrived after that
   * time). With `acknowledgements: "after-output"`, the records at or before `offsets` are
   * covered by the checkpoint: the source acknowledges those the external system still holds
   * unacknowledged (their acknowledgement was lost with the crash) and never delivers them.
   * Sources without it cannot recover from a checkpoint.
   */
  seek?(offsets: ReadonlyMap<string, string>, options: SeekOptions): void | Promise<void>;
  /**
   * Partitioned sources: records waiting per partition now (fetched but not yet read, plus what
   * the external system reports as not yet fetched, such as Kafka's lag). Flow control splits
   * each read's allowance over partitions in proportion to it (`ReadOptions.maxRecordsPerPartition`),
   * as Spark's direct Kafka stream does. Called before every read; keep it cheap.
   */
  backlog?(): ReadonlyMap<string, number>;
  /**
   * How long a dead connection can go unnoticed by this source, in ms: its heartbeat or
   * keep-alive timeout (`deadConnectionTimeoutMs(heartbeatSeconds)`). Acknowledgements sent
   * within that time before a lost connection may have died with it; with a write-ahead log and
   * a `recordId`, Sluice keeps the ids of what it acknowledged that long before the loss to drop
   * the copies the broker sends again. Absent: three minutes.
   */
  deadConnectionTimeoutMs?(): number;
  /**
   * Sources whose acknowledgement also commits what a sink wrote (a Kafka source paired with its
   * sink by `transactionalId`: one transaction holds the sink's outputs since the last commit and
   * the offsets acknowledged): the paired sink as a message names it
   * (`the Kafka sink with transactionalId "orders-eos"`); `undefined` when not paired. Such an
   * acknowledgement commits every output written so far, so batches must not overlap: a job
   * with one refuses `concurrentJobs` above 1 when it starts. Called once, at start.
   */
  pairedSink?(): string | undefined;
  /**
   * A checkpoint was written and its acknowledgements made (their `ack` calls returned): every
   * output written so far belongs to a batch it covers, and the next batch's outputs wait until
   * this settles. A source paired with a sink (`pairedSink`) commits the sink's writes now, with
   * the offsets acknowledged so far, even when the checkpoint acknowledged no read of it (its
   * batches brought no records, and no read that brought nothing came back before they were
   * cut): those outputs must not wait for a later acknowledgement, or a crash before it loses
   * them. Optional; a rejection is logged.
   */
  checkpointed?(): void | Promise<void>;
  /**
   * Sources whose own commit decides where they resume (a Kafka source paired with its sink,
   * which ignores `seek`): why a checkpoint that saved `offsets` for this source must not be
   * restored — it holds records past the source's last commit (the run stopped between writing
   * the checkpoint and committing), which the source will read again — or `undefined` when it
   * may. A job recovering restores the newest kept checkpoint every such source accepts and
   * runs the batches after it again. Called before `connect`, newest checkpoint first.
   */
  checkpointAheadOfCommit?(offsets: ReadonlyMap<string, string>): Promise<string | undefined>;
}

/**
 * What `Source.seek` learns besides the offsets.
 *
 * @example
 * const options: SeekOptions = { firstRunStartedAtMs: 1_700_000_000_000 };
 */
export interface SeekOptions {
  /** Wall-clock time (epoch ms) at which the job's first run, the one that began the checkpoint, started. */
  readonly firstRunStartedAtMs: number;
}

/**
 * Flow control's hints to one `Source.read` (docs/flow-control.md).
 *
 * @example
 * const result = await source.read(signal, { maxRecords: 500 });
 */
export interface ReadOptions {
  /**
   * The most records this read should return (at least 1): what the rate limit and the bounded
   * queue still allow in the current batch interval. Absent: no limit beyond the source's own.
   */
  readonly maxRecords?: number;
  /**
   * For sources with `backlog()`: the most records this read should return per partition (0 =
   * none from it now): the partition's share of the interval's allowance by backlog, capped by
   * `maxRatePerPartition`, less what it already delivered in the interval. A partition absent
   * from the map is limited by `maxRecords` only.
   */
  readonly maxRecordsPerPartition?: ReadonlyMap<string, number>;
}
