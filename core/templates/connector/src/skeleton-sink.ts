import {
  type ConnectorContext,
  NotConnectedError,
  type Sink,
  type SinkRecord,
  SluiceError,
  type WriteBatchContext,
} from "sluice/connector";
import type { SkeletonSinkConfig } from "./config.js";
import { type Connection, InMemorySystem } from "./in-memory-system.js";

/**
 * An idempotent sink: each batch is stored under its idempotency key, so a batch Sluice writes
 * again after a failure replaces the first copy instead of adding a second one.
 */
export class SkeletonSink implements Sink {
  readonly #config: SkeletonSinkConfig;
  readonly #logger: ConnectorContext["logger"];
  readonly #system: InMemorySystem;
  #connection: Connection | undefined;
  #closed = false;

  constructor(config: SkeletonSinkConfig, context: ConnectorContext) {
    this.#config = config;
    this.#logger = context.logger;
    this.#system = InMemorySystem.at(config.url);
  }

  async connect(_signal: AbortSignal): Promise<void> {
    if (this.#closed) throw closed();
    if (this.#connection !== undefined && this.#system.isAlive(this.#connection)) return;
    this.#connection = this.#system.connect();
    this.#logger.debug("connected");
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    if (this.#closed) throw closed();
    const connection = this.#connection;
    if (connection === undefined || !this.#system.isAlive(connection)) {
      // Sluice reconnects with backoff and writes the same batch again.
      throw new NotConnectedError(`the connection to ${this.#config.url} was dropped`);
    }
    if (records.length === 0) return;
    this.#system.writeBatch(
      context.idempotencyKey,
      context.batchTime,
      records.map((record) => record.value),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#connection !== undefined) this.#system.disconnect(this.#connection);
  }
}

function closed(): SluiceError {
  return new SluiceError("SLUICE_CONNECTOR_CLOSED", "the sink was closed");
}
