// A stand-in for the external system the connectors talk to, kept in this process so that the
// package builds and passes the conformance kit before it talks to anything real. Replace it
// with your system's client library: each method is marked with the call it stands for.

/** One connection to the system; a dropped connection is dead for good (connect again). */
export interface Connection {
  readonly epoch: number;
}

/** A record the system stores. */
export interface StoredRecord {
  readonly value: Uint8Array;
  readonly timestampMs: number;
}

/** A batch the sink wrote, under the idempotency key it was written with. */
interface StoredBatch {
  readonly batchTime: number;
  readonly values: readonly Uint8Array[];
}

const systems = new Map<string, InMemorySystem>();

/**
 * An append-only stream of records that consumer groups read by position (committing how far
 * they got, like a Kafka topic or a Redis stream), plus a table of batches written under keys.
 */
export class InMemorySystem {
  readonly #records: StoredRecord[] = [];
  readonly #committed = new Map<string, number>();
  readonly #batches = new Map<string, StoredBatch>();
  readonly #waiters = new Set<() => void>();
  #epoch = 0;
  #open = 0;
  #ended = false;

  /**
   * The system a URL names, created on first use (a real client would open a network
   * connection to it instead).
   *
   * @example
   * const system = InMemorySystem.at("memory://orders");
   */
  static at(url: string): InMemorySystem {
    let system = systems.get(url);
    if (system === undefined) {
      system = new InMemorySystem();
      systems.set(url, system);
    }
    return system;
  }

  /** Forgets the system a URL names (tests clean up with it). */
  static remove(url: string): void {
    systems.delete(url);
  }

  /** Stands for opening a connection (a client's `connect()`). */
  connect(): Connection {
    this.#open++;
    return { epoch: this.#epoch };
  }

  /** False once the system dropped the connection (a client's "close" event). */
  isAlive(connection: Connection): boolean {
    return connection.epoch === this.#epoch;
  }

  /** Stands for closing a connection. */
  disconnect(connection: Connection): void {
    if (this.isAlive(connection)) this.#open--;
  }

  /** Drops every connection, server side; returns how many were open. */
  dropConnections(): number {
    const open = this.#open;
    this.#open = 0;
    this.#epoch++;
    this.#wake();
    return open;
  }

  /** Appends records (a producer's send). */
  append(values: readonly Uint8Array[]): void {
    for (const value of values) this.#records.push({ value, timestampMs: Date.now() });
    this.#wake();
  }

  /** No more records will be appended: consumers that read everything have reached the end. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** True once `end()` was called and nothing is left after `position`. */
  endedAt(position: number): boolean {
    return this.#ended && position >= this.#records.length;
  }

  /** Up to `max` records from `position` (a consumer's fetch). */
  read(position: number, max: number): readonly StoredRecord[] {
    return this.#records.slice(position, position + max);
  }

  /** Where a consumer group resumes: the position after the last record it committed. */
  committed(group: string): number {
    return this.#committed.get(group) ?? 0;
  }

  /** Commits a group's position (never backwards). */
  commit(group: string, position: number): void {
    this.#committed.set(group, Math.max(this.committed(group), position));
  }

  /** Records a group has not committed yet. */
  pending(group: string): number {
    return this.#records.length - this.committed(group);
  }

  /** Resolves when records arrive, a connection drops, the stream ends, or `signal` aborts. */
  waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", done);
      this.#waiters.add(done);
    });
  }

  /** Writes a batch under `key`, replacing what an earlier write with that key stored. */
  writeBatch(key: string, batchTime: number, values: readonly Uint8Array[]): void {
    this.#batches.set(key, { batchTime, values });
  }

  /** Every value written, in batch order (the conformance kit's `readBack`). */
  writtenValues(): Uint8Array[] {
    return [...this.#batches.values()]
      .sort((a, b) => a.batchTime - b.batchTime)
      .flatMap((batch) => batch.values);
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
