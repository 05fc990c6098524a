// A KeyedExchange over shared memory: one log per keyed partition that every "process" of a
// test appends to, and a changelog fenced per partition. It follows the contract's completion
// rule (core/src/connector/keyed-exchange.ts) so the core's keyed tasks can be tested without
// Kafka; the Kafka exchange has its own tests against a real broker.
import type { KeyedBatch, KeyedExchange, KeyedRestore } from "sluice/connector";
import { SluiceError } from "sluice/connector";

type LogRecord =
  | { readonly kind: "chunk"; readonly time: number; readonly chunk: Uint8Array }
  | { readonly kind: "marker"; readonly time: number; readonly input: string };

interface Progress {
  completed: number | undefined;
  position: number;
  markers: Map<string, number>;
  times: Set<number>;
  pending: Map<number, Uint8Array[]>;
  late: Uint8Array[];
}

interface Committed {
  readonly time: number;
  readonly state: Uint8Array;
  readonly progress: Progress;
}

/** What every process of a test shares: the logs, the changelog and the assignment. */
export class InMemoryKeyedLog {
  readonly logs: LogRecord[][];
  readonly changelog = new Map<number, Committed>();
  readonly epochs = new Map<number, number>();
  readonly #waiters = new Set<() => void>();
  commits = 0;

  constructor(
    readonly partitions: number,
    readonly allInputs: readonly string[],
  ) {
    this.logs = Array.from({ length: partitions }, () => []);
  }

  append(partition: number, record: LogRecord): void {
    (this.logs[partition] as LogRecord[]).push(record);
    this.wake();
  }

  /** Wakes every `nextBatch` waiting for records. */
  wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiters.delete(wake);
        reject(new DOMException("aborted", "AbortError"));
      };
      if (signal.aborted) return onAbort();
      this.#waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** One process's view of the exchange: the inputs it reads and the keyed partitions it owns. */
export class InMemoryKeyedExchange implements KeyedExchange {
  readonly partitions: number;
  readonly #log: InMemoryKeyedLog;
  #inputs: readonly string[];
  readonly #listeners = new Set<(partitions: readonly number[]) => void>();
  readonly #progress = new Map<number, Progress>();
  readonly #epoch = new Map<number, number>();
  #owned: readonly number[] = [];

  constructor(log: InMemoryKeyedLog, inputs: readonly string[]) {
    this.#log = log;
    this.partitions = log.partitions;
    this.#inputs = inputs;
  }

  /** Changes the inputs this process reads (a rebalance of the input group). */
  readInputs(inputs: readonly string[]): void {
    this.#inputs = inputs;
  }

  /**
   * Takes `partition` away as a Kafka rebalance may, before the assignment says so: its pending
   * and next `nextBatch` reject with an AbortError until it is restored again.
   */
  revoke(partition: number): void {
    this.#progress.delete(partition);
    this.#log.wake();
  }

  /** Gives this process keyed partitions (a rebalance of the keyed group). */
  assign(partitions: readonly number[]): void {
    this.#owned = partitions;
    for (const listener of this.#listeners) listener(partitions);
  }

  async write(time: number, chunks: ReadonlyArray<Uint8Array | undefined>): Promise<void> {
    for (let partition = 0; partition < this.partitions; partition++) {
      const chunk = chunks[partition];
      if (chunk !== undefined) this.#log.append(partition, { kind: "chunk", time, chunk });
      for (const input of this.#inputs)
        this.#log.append(partition, { kind: "marker", time, input });
    }
  }

  onAssignment(listener: (partitions: readonly number[]) => void): () => void {
    this.#listeners.add(listener);
    if (this.#owned.length > 0) listener(this.#owned);
    return () => this.#listeners.delete(listener);
  }

  async restore(partition: number): Promise<KeyedRestore | undefined> {
    const epoch = (this.#log.epochs.get(partition) ?? 0) + 1;
    this.#log.epochs.set(partition, epoch);
    this.#epoch.set(partition, epoch);
    const committed = this.#log.changelog.get(partition);
    this.#progress.set(partition, copy(committed?.progress ?? fresh()));
    return committed === undefined ? undefined : { time: committed.time, state: committed.state };
  }

  async nextBatch(partition: number, signal: AbortSignal): Promise<KeyedBatch> {
    const progress = this.#progress.get(partition);
    if (progress === undefined) throw new SluiceError("SLUICE_ILLEGAL_STATE", "restore first");
    const log = this.#log.logs[partition] as LogRecord[];
    for (;;) {
      if (this.#progress.get(partition) !== progress) {
        throw new DOMException(`keyed partition ${partition} was revoked`, "AbortError");
      }
      const done = this.#complete(partition, progress);
      if (done !== undefined) return done;
      if (progress.position < log.length) {
        apply(progress, log[progress.position] as LogRecord);
        progress.position++;
        continue;
      }
      await this.#log.changed(signal);
    }
  }

  async commit(partition: number, time: number, state: Uint8Array): Promise<void> {
    if (this.#log.epochs.get(partition) !== this.#epoch.get(partition)) {
      throw new SluiceError("SLUICE_CONNECTOR_IO", `partition ${partition}: fenced`);
    }
    const progress = this.#progress.get(partition) as Progress;
    this.#log.changelog.set(partition, { time, state, progress: copy(progress) });
    this.#log.commits++;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  #complete(partition: number, progress: Progress): KeyedBatch | undefined {
    if (progress.times.size === 0) return undefined;
    const time = Math.min(...progress.times);
    for (const input of this.#log.allInputs) {
      if ((progress.markers.get(input) ?? Number.NEGATIVE_INFINITY) < time) return undefined;
    }
    const chunks = [...progress.late, ...(progress.pending.get(time) ?? [])];
    progress.late = [];
    progress.pending.delete(time);
    progress.times.delete(time);
    progress.completed = time;
    return { partition, time, chunks };
  }
}

function apply(progress: Progress, record: LogRecord): void {
  const late = progress.completed !== undefined && record.time <= progress.completed;
  if (record.kind === "marker") {
    const seen = progress.markers.get(record.input);
    if (seen === undefined || record.time > seen) progress.markers.set(record.input, record.time);
    if (!late) progress.times.add(record.time);
    return;
  }
  if (late) {
    progress.late.push(record.chunk);
    return;
  }
  progress.times.add(record.time);
  const chunks = progress.pending.get(record.time);
  if (chunks === undefined) progress.pending.set(record.time, [record.chunk]);
  else chunks.push(record.chunk);
}

function fresh(): Progress {
  return {
    completed: undefined,
    position: 0,
    markers: new Map(),
    times: new Set(),
    pending: new Map(),
    late: [],
  };
}

function copy(progress: Progress): Progress {
  return {
    completed: progress.completed,
    position: progress.position,
    markers: new Map(progress.markers),
    times: new Set(progress.times),
    pending: new Map([...progress.pending].map(([time, chunks]) => [time, [...chunks]])),
    late: [...progress.late],
  };
}
