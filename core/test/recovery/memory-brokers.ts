import type { SourceRecord } from "sluice";
import {
  defineSource,
  NotConnectedError,
  type ReadResult,
  readColumnsResult,
  type Source,
  SourceRecordColumns,
} from "sluice/connector";
import { z } from "zod";

const encoder = new TextEncoder();
const NO_HEADERS = Object.freeze({});

/**
 * A replayable in-memory log (Kafka's shape): partitions of records kept forever, read from
 * positions; `crash()` turns every source created so far into a dead one (nothing more read or
 * acknowledged), as a killed process would be.
 */
export class MemoryLog {
  readonly partitions = new Map<string, string[]>();
  /** Acknowledged offsets per partition (what a broker would have committed). */
  readonly acked = new Map<string, number>();
  /** Per partition, the highest offset handed out by a source of the current generation. */
  readonly delivered = new Map<string, number>();
  generation = 0;
  readonly #waiters = new Set<() => void>();

  append(partition: string, ...values: string[]): void {
    const records = this.partitions.get(partition) ?? [];
    records.push(...values);
    this.partitions.set(partition, records);
    for (const wake of [...this.#waiters]) wake();
  }

  crash(): void {
    this.generation++;
    this.delivered.clear();
    for (const wake of [...this.#waiters]) wake();
  }

  /** True when sources of the current generation handed out every record appended. */
  caughtUp(): boolean {
    for (const [partition, values] of this.partitions) {
      if ((this.delivered.get(partition) ?? 0) < values.length) return false;
    }
    return true;
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

  /** A source plugin reading this log; `seek` resumes from checkpointed offsets. */
  plugin(name = "memory-log") {
    return defineSource({
      name,
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: true },
      create: () => new MemoryLogSource(this),
    });
  }
}

class MemoryLogSource implements Source {
  readonly #log: MemoryLog;
  readonly #generation: number;
  readonly #positions = new Map<string, number>();
  /** How many records this source handed out. */
  delivered = 0;
  #closed = false;

  constructor(log: MemoryLog) {
    this.#log = log;
    this.#generation = log.generation;
  }

  async connect(): Promise<void> {}

  seek(offsets: ReadonlyMap<string, string>): void {
    for (const [partition, offset] of offsets) this.#positions.set(partition, Number(offset));
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      if (this.#dead) await untilAborted(signal);
      if (signal.aborted) return { records: [], ack: () => undefined };
      const records: SourceRecord[] = [];
      for (const [partition, values] of this.#log.partitions) {
        const from = this.#positions.get(partition) ?? 0;
        for (let index = from; index < values.length; index++) {
          records.push({
            value: encoder.encode(values[index] as string),
            headers: NO_HEADERS,
            timestampMs: 0,
            partition,
            offset: String(index + 1),
          });
        }
        this.#positions.set(partition, values.length);
        this.#log.delivered.set(partition, values.length);
      }
      if (records.length > 0) {
        this.delivered += records.length;
        return {
          records,
          ack: (error?: unknown) => {
            if (this.#dead || error !== undefined) return;
            for (const record of records) {
              const acked = this.#log.acked.get(record.partition) ?? 0;
              this.#log.acked.set(record.partition, Math.max(acked, Number(record.offset)));
            }
          },
        };
      }
      await this.#log.waitForChange(signal);
    }
  }

  get #dead(): boolean {
    return this.#closed || this.#log.generation !== this.#generation;
  }

  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * A broker whose messages are gone once acknowledged (RabbitMQ's shape): unacknowledged
 * deliveries of a crashed consumer are delivered again to the next one.
 */
export class MemoryQueue {
  readonly #ready: string[] = [];
  readonly #unacked = new Map<number, string[]>();
  readonly #waiters = new Set<() => void>();
  generation = 0;
  acked = 0;
  nacked = 0;
  /** While true, acknowledgements never reach the broker (lost with a dying connection). */
  loseAcks = false;
  /** While true, the broker cannot be reached: a source's connect fails with `NotConnectedError`. */
  down = false;
  #deliveries = 0;

  /**
   * With `byteBatches`, a read hands its messages over as one byte batch (`readColumnsResult`);
   * with `deadConnectionTimeoutMs`, its sources say that a dead connection goes unnoticed that
   * long (`Source.deadConnectionTimeoutMs`).
   */
  constructor(
    readonly options: {
      readonly byteBatches?: boolean;
      readonly deadConnectionTimeoutMs?: number;
    } = {},
  ) {}

  publish(...values: string[]): void {
    this.#ready.push(...values);
    for (const wake of [...this.#waiters]) wake();
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  /** Connections lost so far: a source that sees a new one reconnects. */
  connectionsLost = 0;

  /**
   * The consumer's connection dropped: what it had not acknowledged (acknowledgements sent but
   * lost with the connection too) goes back to the queue, and its next read fails with
   * `NotConnectedError`, so it reconnects.
   */
  loseConnection(): void {
    this.connectionsLost++;
    this.#requeueUnacknowledged();
  }

  /** The consumer died: what it had not acknowledged goes back to the queue. */
  crash(): void {
    this.generation++;
    this.#requeueUnacknowledged();
  }

  #requeueUnacknowledged(): void {
    const requeued = [...this.#unacked.values()].flat();
    this.#unacked.clear();
    this.#ready.unshift(...requeued);
    for (const wake of [...this.#waiters]) wake();
  }

  plugin(name = "memory-queue") {
    return defineSource({
      name,
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: false },
      create: () => new MemoryQueueSource(this),
    });
  }

  take(): { id: number; values: string[] } | undefined {
    if (this.#ready.length === 0) return undefined;
    const values = this.#ready.splice(0);
    const id = this.#deliveries++;
    this.#unacked.set(id, values);
    return { id, values };
  }

  settle(id: number, error: unknown): void {
    if (this.loseAcks) return;
    const values = this.#unacked.get(id);
    if (values === undefined) return;
    this.#unacked.delete(id);
    if (error === undefined) this.acked += values.length;
    else {
      this.nacked += values.length;
      this.#ready.unshift(...values);
    }
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
}

class MemoryQueueSource implements Source {
  readonly deadConnectionTimeoutMs?: () => number;
  readonly #queue: MemoryQueue;
  readonly #generation: number;
  #closed = false;
  #counter = 0;
  #connection: number;

  constructor(queue: MemoryQueue) {
    this.#queue = queue;
    const unnoticed = queue.options.deadConnectionTimeoutMs;
    if (unnoticed !== undefined) this.deadConnectionTimeoutMs = () => unnoticed;
    this.#generation = queue.generation;
    this.#connection = queue.connectionsLost;
  }

  async connect(): Promise<void> {
    if (this.#queue.down) throw new NotConnectedError("the memory queue cannot be reached");
    this.#connection = this.#queue.connectionsLost;
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      if (this.#dead) await untilAborted(signal);
      if (signal.aborted) return { records: [], ack: () => undefined };
      if (this.#connection !== this.#queue.connectionsLost) {
        throw new NotConnectedError("the memory queue dropped the connection");
      }
      const delivery = this.#queue.take();
      if (delivery !== undefined) {
        const settle = (error?: unknown): void => {
          if (!this.#dead) this.#queue.settle(delivery.id, error);
        };
        if (this.#queue.options.byteBatches === true) {
          const first = this.#counter + 1;
          this.#counter += delivery.values.length;
          return readColumnsResult(columnsOf(delivery.values, first), settle);
        }
        const records = delivery.values.map((value) => ({
          value: encoder.encode(value),
          headers: NO_HEADERS,
          timestampMs: 0,
          partition: "queue",
          offset: String(++this.#counter),
        }));
        return {
          records,
          ack: (error?: unknown) => {
            if (!this.#dead) this.#queue.settle(delivery.id, error);
          },
        };
      }
      await this.#queue.waitForChange(signal);
    }
  }

  get #dead(): boolean {
    return this.#closed || this.#queue.generation !== this.#generation;
  }

  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** `values` as one byte batch of partition "queue", offsets from `first` on. */
function columnsOf(values: readonly string[], first: number): SourceRecordColumns {
  const encoded = values.map((value) => encoder.encode(value));
  const valueOffsets = new Uint32Array(values.length + 1);
  let total = 0;
  encoded.forEach((bytes, row) => {
    total += bytes.length;
    valueOffsets[row + 1] = total;
  });
  const bytes = new Uint8Array(total);
  encoded.forEach((value, row) => {
    bytes.set(value, valueOffsets[row]);
  });
  return new SourceRecordColumns({
    partition: "queue",
    bytes,
    valueOffsets,
    timestampMs: 0,
    offsets: { kind: "sequence", first },
  });
}

/**
 * Resolves once `condition` holds, letting the event loop run between checks (sources deliver
 * and the write-ahead log flushes asynchronously); fails after 10 s instead of hanging.
 */
export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A crashed process reads nothing more: its read hangs until the context stops it. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
