import {
  type ConnectorContext,
  EndOfInputError,
  emptyReadResult,
  NotConnectedError,
  type ReadOptions,
  type ReadResult,
  readResult,
  SluiceError,
  type Source,
  type SourceRecord,
} from "sluice/connector";
import type { SkeletonSourceConfig } from "./config.js";
import { type Connection, InMemorySystem } from "./in-memory-system.js";

/** The one partition this source reads; offsets are positions after a record. */
export const PARTITION = "0";

/**
 * A replayable source: records stay in the system and are read by position, so Sluice keeps the
 * positions in its checkpoints and `seek`s back to them on recovery. An acknowledgement commits
 * the consumer group's position, so a first run starts after what earlier runs used.
 */
export class SkeletonSource implements Source {
  // #private: console.log and JSON.stringify never show the config (it may hold secrets).
  readonly #config: SkeletonSourceConfig;
  readonly #logger: ConnectorContext["logger"];
  readonly #system: InMemorySystem;
  #connection: Connection | undefined;
  /** Where the next read starts; undefined until `seek`, `committedOffsets` or `connect`. */
  #position: number | undefined;
  #paused = false;
  #closed = false;
  /** The waits of pending reads, ended by `pause` and `close`. */
  readonly #waits = new Set<AbortController>();

  constructor(
    config: SkeletonSourceConfig,
    context: ConnectorContext & { committedOffsets: ReadonlyMap<string, string> },
  ) {
    // No I/O here: Sluice may create a connector long before the job starts.
    this.#config = config;
    this.#logger = context.logger;
    this.#system = InMemorySystem.at(config.url);
    const committed = context.committedOffsets.get(PARTITION);
    if (committed !== undefined) this.#position = Number(committed);
  }

  /** Recovery from a checkpoint: continue after the last record the job used. */
  seek(offsets: ReadonlyMap<string, string>): void {
    const offset = offsets.get(PARTITION);
    if (offset !== undefined) this.#position = Number(offset);
  }

  async connect(_signal: AbortSignal): Promise<void> {
    if (this.#closed) throw closed();
    if (this.#connection !== undefined && this.#system.isAlive(this.#connection)) return;
    // A real client connects here; a failure it can retry is a NotConnectedError.
    this.#connection = this.#system.connect();
    this.#position ??= this.#system.committed(this.#config.group);
    this.#logger.debug({ position: this.#position }, "connected");
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    for (;;) {
      if (this.#closed) throw closed();
      const connection = this.#connection;
      if (connection === undefined) throw new NotConnectedError("connect() was not called");
      if (!this.#system.isAlive(connection)) {
        // Sluice reconnects with backoff and reads again: nothing is lost, the position stays.
        throw new NotConnectedError(`the connection to ${this.#config.url} was dropped`);
      }
      if (this.#paused || signal.aborted) return emptyReadResult();
      const start = this.#position ?? 0;
      const max = Math.min(this.#config.maxRecordsPerRead, options?.maxRecords ?? Infinity);
      const stored = this.#system.read(start, max);
      if (stored.length > 0) {
        const end = start + stored.length;
        this.#position = end;
        const records = stored.map(
          (record, index): SourceRecord => ({
            value: record.value,
            headers: {},
            timestampMs: record.timestampMs,
            partition: PARTITION,
            offset: String(start + index + 1),
          }),
        );
        return readResult(records, (error) => {
          if (error !== undefined) {
            // A nack: these records must come again, so the next read starts at them.
            this.#position = Math.min(this.#position ?? start, start);
            return;
          }
          // Acknowledged only once the batch was output (and checkpointed): commit.
          this.#system.commit(this.#config.group, end);
        });
      }
      if (this.#system.endedAt(start)) throw new EndOfInputError();
      const waiting = new AbortController();
      this.#waits.add(waiting);
      try {
        await this.#system.waitForChange(AbortSignal.any([signal, waiting.signal]));
      } finally {
        this.#waits.delete(waiting);
      }
    }
  }

  pause(): void {
    this.#paused = true;
    this.#wakeReads();
  }

  resume(): void {
    this.#paused = false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeReads();
    if (this.#connection !== undefined) this.#system.disconnect(this.#connection);
  }

  /** Ends a pending read's wait, so that a paused or closed source settles it at once. */
  #wakeReads(): void {
    for (const waiting of this.#waits) waiting.abort();
  }
}

function closed(): SluiceError {
  return new SluiceError("SLUICE_CONNECTOR_CLOSED", "the source was closed");
}
