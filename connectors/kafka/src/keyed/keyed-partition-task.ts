import type { Producer, Transaction } from "kafkajs";
import { closeQuietly, Wakeup } from "sluice/connector";
import type {
  AssembledBatch,
  AssemblerSnapshot,
  BatchAssembler,
  ExchangeRecord,
} from "./batch-assembler.js";

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * One restored keyed partition on its owner: the assembler of its batches, the repartition
 * records fetched and not yet fed to it, the snapshots of the batches handed out and not yet
 * committed, and the transactional producer its commits go through (`<group>.sluice-keyed-<r>`,
 * which fenced every earlier owner when it was initialised).
 *
 * @example
 * const task = new KeyedPartitionTask(3, assembler, producer, transaction, 10_000);
 * task.receive(records);
 * const batch = task.next();
 */
export class KeyedPartitionTask {
  readonly partition: number;
  readonly assembler: BatchAssembler;
  readonly producer: Producer;
  /** Wakes `nextBatch` when records arrive, the task is dropped or fails. */
  readonly wakeup = new Wakeup();
  /** Begun at the restore (initialising the producer fences earlier owners); used by the next commit. */
  transaction: Transaction | undefined;
  /** Set when the task can go on no more (dropped by a rebalance or a new restore, or failed). */
  ended: Error | undefined;
  /** How many parts the last commit was written in (0: one record); the next clears any beyond its own. */
  changelogParts = 0;
  /** Commits run one at a time. */
  commits: Promise<unknown> = Promise.resolve();
  readonly #buffer: ExchangeRecord[] = [];
  #head = 0;
  readonly #maxBuffered: number;
  readonly #snapshots = new Map<number, AssemblerSnapshot>();

  constructor(
    partition: number,
    assembler: BatchAssembler,
    producer: Producer,
    transaction: Transaction,
    maxBuffered: number,
  ) {
    this.partition = partition;
    this.assembler = assembler;
    this.producer = producer;
    this.transaction = transaction;
    this.#maxBuffered = maxBuffered;
  }

  /** Records fetched and not yet fed to the assembler. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** True when fetching should pause until `next` has taken records. */
  get full(): boolean {
    return this.buffered >= this.#maxBuffered;
  }

  /** Keeps fetched records, in log order, for `next`. */
  receive(records: readonly ExchangeRecord[]): void {
    for (const record of records) this.#buffer.push(record);
    this.wakeup.notify();
  }

  /**
   * The next complete batch, feeding buffered records one at a time until one is complete;
   * undefined when the buffer ran out first. Keeps the batch's snapshot for its commit.
   */
  next(): AssembledBatch | undefined {
    for (;;) {
      const batch = this.assembler.takeComplete();
      if (batch !== undefined) {
        this.#snapshots.set(batch.time, this.assembler.snapshot());
        return batch;
      }
      const record = this.#buffer[this.#head];
      if (record === undefined) {
        this.#buffer.length = 0;
        this.#head = 0;
        return undefined;
      }
      this.#head++;
      this.assembler.feed(record);
      if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer.splice(0, this.#head);
        this.#head = 0;
      }
    }
  }

  /** The bookkeeping as of after batch `time` (handed out by `next`), and forgets earlier ones. */
  snapshotFor(time: number): AssemblerSnapshot | undefined {
    const snapshot = this.#snapshots.get(time);
    for (const at of [...this.#snapshots.keys()]) if (at < time) this.#snapshots.delete(at);
    return snapshot;
  }

  /** Ends the task (its waiters wake and see `ended`); its producer closes after its commits. */
  end(reason: Error): void {
    this.ended ??= reason;
    this.wakeup.notify();
    void this.commits.finally(async () => {
      const transaction = this.transaction;
      this.transaction = undefined;
      await transaction?.abort().catch(() => undefined);
      await closeQuietly(() => this.producer.disconnect(), CLOSE_TIMEOUT_MS);
    });
  }
}
