// An in-memory stream with a consumer group (Redis Streams' shape): entries kept by position,
// a pending list of entries delivered and not yet acknowledged, and the group's last delivered
// position. Its source declares `acknowledgements: "after-output"`.
import { batchRecords, type SourceRecord, type StreamingContext } from "sluice";
import { defineSource, type ReadResult, type Source } from "sluice/connector";
import { z } from "zod";
import type { Outputs } from "./job-harness.js";

const encoder = new TextEncoder();
const NO_HEADERS = Object.freeze({});

/**
 * The server: per partition, entries numbered from 1 (a record's offset is its entry number,
 * the position to resume after it), the consumer group's pending list and last delivered
 * entry. `crash()` turns every source created so far into a dead one (nothing more read or
 * acknowledged); the pending list stays, as a server keeps it.
 */
export class MemoryStream {
  readonly partitions = new Map<string, string[]>();
  /** The consumer group's pending list: per partition, entries delivered and not acknowledged. */
  readonly pending = new Map<string, Set<number>>();
  /** The consumer group's last delivered entry per partition. */
  readonly lastDelivered = new Map<string, number>();
  /** Entries acknowledged so far (each at most once). */
  acknowledged = 0;
  /** Entries handed out by sources, copies included. */
  deliveries = 0;
  /** While true, acknowledgements never reach the server (lost with a dying process). */
  loseAcks = false;
  generation = 0;
  readonly #waiters = new Set<() => void>();
  readonly #live = new Set<MemoryStreamSource>();

  append(partition: string, ...values: string[]): void {
    const entries = this.partitions.get(partition) ?? [];
    entries.push(...values);
    this.partitions.set(partition, entries);
    this.changed();
  }

  /** The entries of every partition not yet acknowledged. */
  pendingCount(): number {
    let count = 0;
    for (const ids of this.pending.values()) count += ids.size;
    return count;
  }

  /** True when every entry appended was delivered to the group. */
  caughtUp(): boolean {
    for (const [partition, entries] of this.partitions) {
      if ((this.lastDelivered.get(partition) ?? 0) < entries.length) return false;
    }
    return true;
  }

  /**
   * The acknowledgement deadline of every pending entry passed: the server delivers them again
   * to the live consumer (JetStream's ack wait, SQS's visibility timeout, Redis' XAUTOCLAIM).
   */
  expirePending(): void {
    for (const source of this.#live) {
      if (source.dead) continue;
      for (const [partition, ids] of this.pending) source.redeliver(partition, [...ids]);
    }
    this.changed();
  }

  crash(): void {
    this.generation++;
    this.#live.clear();
    this.changed();
  }

  /** Marks entries delivered: on the pending list, the group's position past them. */
  deliver(partition: string, ids: readonly number[]): void {
    const pending = this.pending.get(partition) ?? new Set<number>();
    for (const id of ids) pending.add(id);
    this.pending.set(partition, pending);
    const last = Math.max(this.lastDelivered.get(partition) ?? 0, ...ids);
    this.lastDelivered.set(partition, last);
    this.deliveries += ids.length;
  }

  /** XACK: entries leave the pending list. */
  ack(partition: string, ids: readonly number[]): void {
    if (this.loseAcks) return;
    const pending = this.pending.get(partition);
    for (const id of ids) if (pending?.delete(id)) this.acknowledged++;
  }

  /** Wakes reads waiting for entries. */
  changed(): void {
    this.#wake();
  }

  register(source: MemoryStreamSource): void {
    this.#live.add(source);
  }

  waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  /** A source plugin reading this stream through its consumer group. */
  plugin(name = "memory-stream") {
    return defineSource({
      name,
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: true, acknowledgements: "after-output" },
      create: () => new MemoryStreamSource(this),
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

/**
 * The consumer. A first run reads the group's pending list, then what the group never
 * delivered; after `seek` it reads by position from the checkpoint (the group's position moves
 * back there, so what was pending after it is delivered once more, not twice) and acknowledges
 * what the checkpoint covers. Nacked entries are read again first.
 */
export class MemoryStreamSource implements Source {
  readonly #stream: MemoryStream;
  readonly #generation: number;
  /** Per partition, the entry read last; absent: the group's position (a first run). */
  readonly #positions = new Map<string, number>();
  /** Entries to deliver before new ones: the pending list on a first run, nacks, redeliveries. */
  readonly #again = new Map<string, number[]>();
  #started = false;
  #closed = false;

  constructor(stream: MemoryStream) {
    this.#stream = stream;
    this.#generation = stream.generation;
    stream.register(this);
  }

  get dead(): boolean {
    return this.#closed || this.#stream.generation !== this.#generation;
  }

  seek(offsets: ReadonlyMap<string, string>): void {
    for (const [partition, offset] of offsets) {
      const position = Number(offset);
      this.#positions.set(partition, position);
      const covered = [...(this.#stream.pending.get(partition) ?? [])].filter(
        (id) => id <= position,
      );
      this.#stream.ack(partition, covered);
    }
  }

  async connect(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (const [partition, ids] of this.#stream.pending) {
      if (this.#positions.has(partition)) continue;
      // A first run (or a partition the checkpoint has not seen): the pending list, then new entries.
      this.redeliver(partition, [...ids]);
      this.#positions.set(partition, this.#stream.lastDelivered.get(partition) ?? 0);
    }
  }

  /** Queues entries to be delivered again before new ones. */
  redeliver(partition: string, ids: readonly number[]): void {
    const queue = this.#again.get(partition) ?? [];
    queue.push(...ids);
    queue.sort((a, b) => a - b);
    this.#again.set(partition, queue);
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      if (this.dead) await untilAborted(signal);
      if (signal.aborted) return { records: [], ack: () => undefined };
      const taken: [string, number[]][] = [];
      for (const [partition, entries] of this.#stream.partitions) {
        const again = this.#again.get(partition)?.splice(0) ?? [];
        const from =
          this.#positions.get(partition) ?? this.#stream.lastDelivered.get(partition) ?? 0;
        const fresh = entries.slice(from).map((_, index) => from + index + 1);
        this.#positions.set(partition, entries.length);
        const ids = [...again, ...fresh];
        if (ids.length > 0) taken.push([partition, ids]);
      }
      if (taken.length > 0) return this.#result(taken);
      await this.#stream.waitForChange(signal);
    }
  }

  #result(taken: readonly [string, number[]][]): ReadResult {
    const records: SourceRecord[] = [];
    for (const [partition, ids] of taken) {
      this.#stream.deliver(partition, ids);
      const entries = this.#stream.partitions.get(partition) ?? [];
      for (const id of ids) {
        records.push({
          value: encoder.encode(entries[id - 1] as string),
          headers: NO_HEADERS,
          timestampMs: 0,
          partition,
          offset: String(id),
        });
      }
    }
    let settled = false;
    return {
      records,
      ack: (error?: unknown) => {
        if (settled) throw new Error("ack() was already called for this result");
        settled = true;
        if (this.dead) return;
        for (const [partition, ids] of taken) {
          if (error === undefined) this.#stream.ack(partition, ids);
          else this.redeliver(partition, ids);
        }
        if (error !== undefined) this.#stream.changed();
      },
    };
  }

  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** A crashed process reads nothing more: its read hangs until the context stops it. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

const decoder = new TextDecoder();

/**
 * A job reading `stream`: every record's text, written per batch to `outputs` as "values" (a
 * replay overwrites its batch); `atOutput` sees each batch's values as its output runs.
 */
export function streamValuesJob(
  stream: MemoryStream,
  outputs: Outputs,
  hooks: { atOutput?: (time: number, values: string[]) => void } = {},
) {
  return (ctx: StreamingContext) => {
    const values = ctx
      .source(stream.plugin(), {}, { id: "stream" })
      .map((record) => decoder.decode(record.value));
    outputs.write("values", values);
    values.foreachBatch((batch, time) => {
      hooks.atOutput?.(time, batchRecords(batch));
    });
  };
}
