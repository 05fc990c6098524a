// An in-memory model of a Kafka source and sink paired by transactionalId (outside cluster mode):
// outputs go into one open transaction kept across batches; a read's acknowledgement commits it
// with the offsets acknowledged so far; a read that brought nothing does not commit while a read
// with records handed out before it is unacknowledged (that read's own acknowledgement commits). Reads are answered when the test polls, so it
// decides when a read brings nothing.
import { batchRecords, type SourceRecord, type StreamingContext } from "sluice";
import { defineSource, type ReadResult, readResult, type Source } from "sluice/connector";
import { z } from "zod";
import { until } from "./memory-brokers.js";

const encoder = new TextEncoder();
const NO_HEADERS = Object.freeze({});

/** What a batch's output wrote: its time and values. */
export interface Written {
  readonly time: number;
  readonly values: readonly string[];
}

/**
 * The broker side: one partition ("p0") of records, the committed offset (the number of records
 * consumed) and the committed outputs. `crash()` discards the open transaction and turns every
 * source so far into a dead one (nothing more read or acknowledged).
 */
export class MemoryTransactionalPair {
  readonly records: string[] = [];
  /** Outputs of committed transactions, in commit order. */
  readonly committed: Written[] = [];
  /** The records consumed as the last commit says. */
  committedOffset = 0;
  /** Transactions committed. */
  commits = 0;
  /** Read results handed out, and acknowledgements received (nacks included). */
  reads = 0;
  acks = 0;
  generation = 0;
  /** Outputs written since the last commit. */
  open: Written[] = [];
  source: MemoryPairedSource | undefined;

  append(...values: string[]): void {
    this.records.push(...values);
  }

  /** The paired sink: a batch's output goes into the open transaction. */
  write(time: number, values: readonly string[]): void {
    this.open.push({ time, values: [...values] });
  }

  crash(): void {
    this.generation++;
    this.open = [];
  }

  /** Answers the source's waiting read with what is there to read (maybe nothing). */
  async poll(): Promise<void> {
    await until(() => this.source?.waiting === true, "the source is reading");
    const source = this.source as MemoryPairedSource;
    source.answer();
    // The input handled the result once the source is asked for the next one.
    await until(() => source.waiting, "the input handled the read");
  }

  /** The times of the batches whose outputs are committed, in commit order. */
  committedTimes(): number[] {
    return this.committed.map((written) => written.time);
  }

  plugin() {
    return defineSource({
      name: "memory-paired",
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: true },
      create: () => {
        this.source = new MemoryPairedSource(this);
        return this.source;
      },
    });
  }
}

/** The source of the pair. */
export class MemoryPairedSource implements Source {
  readonly #pair: MemoryTransactionalPair;
  readonly #generation: number;
  /** The next record to read (0-based); a record's offset is its number from 1. */
  #next: number;
  /** Reads with records not yet acknowledged, by sequence. */
  readonly #inFlight = new Set<number>();
  #acked = 0;
  #sequence = 0;
  #answer: (() => void) | undefined;

  constructor(pair: MemoryTransactionalPair) {
    this.#pair = pair;
    this.#generation = pair.generation;
    this.#next = pair.committedOffset;
    this.#acked = pair.committedOffset;
  }

  get waiting(): boolean {
    return this.#answer !== undefined;
  }

  get #dead(): boolean {
    return this.#generation !== this.#pair.generation;
  }

  answer(): void {
    const answer = this.#answer;
    this.#answer = undefined;
    answer?.();
  }

  seek(offsets: ReadonlyMap<string, string>): void {
    const offset = offsets.get("p0");
    if (offset !== undefined) this.#next = Number(offset);
  }

  async connect(): Promise<void> {}

  read(signal: AbortSignal): Promise<ReadResult> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        this.#answer = undefined;
        resolve(this.#take(signal.aborted || this.#dead));
      };
      signal.addEventListener("abort", done, { once: true });
      // A dead source's read hangs until the context stops it.
      if (!this.#dead) this.#answer = done;
    });
  }

  #take(nothing: boolean): ReadResult {
    this.#pair.reads++;
    const sequence = ++this.#sequence;
    const from = this.#next;
    const values = nothing ? [] : this.#pair.records.slice(from);
    this.#next = from + values.length;
    const records: SourceRecord[] = values.map((value, index) => ({
      value: encoder.encode(value),
      headers: NO_HEADERS,
      timestampMs: 0,
      partition: "p0",
      offset: String(from + index + 1),
    }));
    if (records.length > 0) this.#inFlight.add(sequence);
    return readResult(records, (error) => this.#settle(sequence, from, records.length, error));
  }

  #settle(sequence: number, from: number, count: number, error: unknown): void {
    if (this.#dead) return;
    this.#pair.acks++;
    this.#inFlight.delete(sequence);
    if (error !== undefined) {
      // The batch failed: its outputs must not commit, its records come again.
      this.#pair.open = [];
      this.#next = Math.min(this.#next, from);
      return;
    }
    this.#acked = Math.max(this.#acked, from + count);
    // A read that brought nothing commits only when no read with records before it waits.
    if (count === 0 && [...this.#inFlight].some((read) => read < sequence)) return;
    this.#commitOpen();
  }

  // The open transaction with the offsets acknowledged so far (a transaction with neither is
  // not begun).
  #commitOpen(): void {
    if (this.#pair.open.length === 0 && this.#pair.committedOffset === this.#acked) return;
    this.#pair.committed.push(...this.#pair.open);
    this.#pair.open = [];
    this.#pair.committedOffset = this.#acked;
    this.#pair.commits++;
  }

  /** Its acknowledgements commit the pair's open transaction. */
  pairedSink(): string {
    return "the in-memory paired sink";
  }

  /** Like Kafka's paired source: a checkpoint past the committed offset must not be restored. */
  async checkpointAheadOfCommit(offsets: ReadonlyMap<string, string>): Promise<string | undefined> {
    const offset = Number(offsets.get("p0") ?? 0);
    const committed = this.#pair.committedOffset;
    return offset > committed ? `p0 at ${offset}, committed ${committed}` : undefined;
  }

  /** A checkpoint covers every output written: the open transaction commits now. */
  checkpointed(): void {
    if (this.#dead) return;
    this.#commitOpen();
  }

  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {}
}

const decoder = new TextDecoder();

/**
 * A job reading `pair`'s source: every value upper-cased, in a window of 5 s sliding by 1 s,
 * written to the pair's sink (a record read at 1000 is output at 1000 to 5000).
 */
export function upperCasedWindowJob(pair: MemoryTransactionalPair) {
  return (ctx: StreamingContext) => {
    ctx
      .source(pair.plugin(), {}, { id: "paired" })
      .map((record) => decoder.decode(record.value).toUpperCase())
      .window(5000, 1000)
      .foreachBatch((batch, time) => pair.write(time, batchRecords(batch)));
  };
}
