// In-memory external systems and connectors for testing the conformance kit itself: a correct
// connector of each kind, and flags that each plant one bug that loses or duplicates data.

import { type SinkRecord, SluiceError, type SourceRecord } from "sluice";
import {
  defineSink,
  defineSource,
  NotConnectedError,
  type ReadOptions,
  type ReadResult,
  type Sink,
  type Source,
} from "sluice/connector";
import { z } from "zod";

const CONFIG = z.strictObject({ name: z.string().min(1), maxRecordsPerRead: z.int().min(1) });
/** A valid config for every fake plugin. */
export const FAKE_CONFIG = { name: "fake", maxRecordsPerRead: 100 };
/** An invalid config naming two fields. */
export const FAKE_INVALID = {
  config: { name: "", maxRecordsPerRead: 0 },
  paths: ["name", "maxRecordsPerRead"],
};

/** Resolves when `wake` is called, the signal aborts, or (polling) `ready()` holds. */
class Waiters {
  #waiting = new Set<() => void>();
  wake(): void {
    for (const resolve of this.#waiting) resolve();
    this.#waiting.clear();
  }
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.#waiting.delete(done);
        resolve();
      };
      signal.addEventListener("abort", done);
      this.#waiting.add(done);
    });
  }
}

interface Message {
  readonly id: number;
  readonly value: Uint8Array;
}

/** One connection to the fake queue broker. */
export interface QueueConnection {
  alive: boolean;
  readonly unacked: Map<number, Message>;
  /** Told when the broker drops the connection (as a client library's "close" event). */
  onLost?: () => void;
}

/**
 * A RabbitMQ-like queue: a delivery stays unacknowledged until acked on the connection that got
 * it; a lost or closed connection requeues its unacknowledged deliveries at the front, and an
 * ack on a dead connection does nothing.
 */
export class FakeQueueBroker {
  readonly ready: Message[] = [];
  readonly connections = new Set<QueueConnection>();
  readonly waiters = new Waiters();
  #ids = 0;

  publish(values: readonly Uint8Array[]): void {
    for (const value of values) this.ready.push({ id: this.#ids++, value });
    this.waiters.wake();
  }
  connect(): QueueConnection {
    const connection: QueueConnection = { alive: true, unacked: new Map() };
    this.connections.add(connection);
    return connection;
  }
  take(connection: QueueConnection, max: number): Message[] {
    const taken = this.ready.splice(0, max);
    for (const message of taken) connection.unacked.set(message.id, message);
    return taken;
  }
  ack(connection: QueueConnection, id: number): void {
    if (connection.alive) connection.unacked.delete(id);
  }
  nack(connection: QueueConnection, ids: readonly number[]): void {
    if (!connection.alive) return;
    const back = ids.flatMap((id) => connection.unacked.get(id) ?? []);
    for (const id of ids) connection.unacked.delete(id);
    this.ready.unshift(...back);
    this.waiters.wake();
  }
  disconnect(connection: QueueConnection): void {
    if (!connection.alive) return;
    connection.alive = false;
    this.connections.delete(connection);
    this.ready.unshift(...[...connection.unacked.values()].sort((a, b) => a.id - b.id));
    connection.unacked.clear();
    this.waiters.wake();
  }
  /** Drops every connection, server side; resolves with how many there were. */
  dropAll(): number {
    const count = this.connections.size;
    for (const connection of [...this.connections]) {
      this.disconnect(connection);
      connection.onLost?.();
    }
    return count;
  }
  /** Messages not acknowledged: ready plus delivered-but-unacked. */
  pending(): number {
    let unacked = 0;
    for (const connection of this.connections) unacked += connection.unacked.size;
    return this.ready.length + unacked;
  }
}

/** The bugs a fake source can have. */
export interface SourceBugs {
  /** Acknowledges each record to the external system as soon as it is read. */
  readonly ackAtRead?: boolean;
  /** Loses the last record of every read of more than one (acknowledging it silently). */
  readonly dropOne?: boolean;
  /** Returns every record available whatever `maxRecords` says. */
  readonly ignoreMaxRecords?: boolean;
  /** After a reconnect, delivers the records it still holds unacknowledged again from memory. */
  readonly redeliverAfterReconnect?: boolean;
  /** Replayable: `seek` resumes at the checkpointed record instead of after it. */
  readonly seekAtOffset?: boolean;
  /** Keeps prefetched deliveries of a lost connection (the broker delivers them again too). */
  readonly keepPrefetchOnLoss?: boolean;
  /** Acknowledged offsets: `seek` leaves what the checkpoint covers unacknowledged. */
  readonly seekKeepsCovered?: boolean;
  /** Acknowledged offsets: `seek` is ignored; the group's pending list is read again instead. */
  readonly seekToGroup?: boolean;
}

function closedError(): SluiceError {
  return new SluiceError("SLUICE_CONNECTOR_CLOSED", "the fake source was closed");
}

/** A one-shot ack that throws when called twice. */
function once(settle: (error?: unknown) => void): (error?: unknown) => void {
  let done = false;
  return (error?: unknown) => {
    if (done) throw new Error("ack() was already called for this result");
    done = true;
    settle(error);
  };
}

function record(message: Message, partition: string): SourceRecord {
  return {
    value: message.value,
    headers: {},
    timestampMs: Date.now(),
    partition,
    offset: String(message.id + 1),
  };
}

/** A non-replayable source over `FakeQueueBroker`, correct unless told its bugs. */
export class FakeQueueSource implements Source {
  /** Lost connections this source noticed (its metrics). */
  losses = 0;
  /** Deliveries fetched ahead of reads (a prefetch), on the connection that got them. */
  #prefetched: { message: Message; connection: QueueConnection }[] = [];
  #connection: QueueConnection | undefined;
  #connected = false;
  #closed = false;
  #paused = false;
  #wake = new Waiters();
  readonly #held = new Map<number, Message>();
  #replay: Message[] = [];

  constructor(
    readonly broker: FakeQueueBroker,
    readonly bugs: SourceBugs,
    readonly maxRecordsPerRead: number,
  ) {}

  async connect(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#connection?.alive) return;
    const reconnect = this.#connected;
    this.#connected = true;
    const connection = this.broker.connect();
    connection.onLost = () => {
      this.losses++;
      // The broker requeued them: delivering them from here too would duplicate them.
      if (!this.bugs.keepPrefetchOnLoss) this.#prefetched = [];
      this.#wake.wake();
    };
    this.#connection = connection;
    if (reconnect && this.bugs.redeliverAfterReconnect) this.#replay = [...this.#held.values()];
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw closedError();
    for (;;) {
      const connection = this.#connection;
      if (connection === undefined) throw new NotConnectedError("not connected");
      if (!connection.alive) throw new NotConnectedError("the broker dropped the connection");
      if (this.#paused || this.#closed || signal.aborted)
        return { records: [], ack: once(() => undefined) };
      const limit = this.bugs.ignoreMaxRecords
        ? this.maxRecordsPerRead
        : Math.min(this.maxRecordsPerRead, options?.maxRecords ?? Number.POSITIVE_INFINITY);
      if (this.#replay.length > 0) {
        const replayed = this.#replay.splice(0, limit);
        return this.#result(connection, replayed);
      }
      if (this.#prefetched.length > 0) {
        const taken = this.#prefetched.splice(0, limit);
        const first = taken[0];
        if (first !== undefined) {
          return this.#result(
            first.connection,
            taken.map((delivery) => delivery.message),
          );
        }
      }
      if (this.broker.ready.length > 0) {
        // Fetch ahead of the reads, as AMQP's prefetch does; return at most `limit`.
        for (const message of this.broker.take(connection, Number.POSITIVE_INFINITY)) {
          this.#prefetched.push({ message, connection });
        }
        let taken = this.#prefetched.splice(0, limit).map((delivery) => delivery.message);
        if (this.bugs.dropOne && taken.length > 1) {
          const lost = taken.at(-1);
          if (lost !== undefined) this.broker.ack(connection, lost.id);
          taken = taken.slice(0, -1);
        }
        return this.#result(connection, taken);
      }
      await Promise.race([this.broker.waiters.wait(signal), this.#wake.wait(signal)]);
    }
  }

  #result(connection: QueueConnection, messages: readonly Message[]): ReadResult {
    for (const message of messages) {
      this.#held.set(message.id, message);
      if (this.bugs.ackAtRead) this.broker.ack(connection, message.id);
    }
    return {
      records: messages.map((message) => record(message, "queue")),
      ack: once((error) => {
        for (const message of messages) this.#held.delete(message.id);
        if (error !== undefined) {
          this.broker.nack(
            connection,
            messages.map((message) => message.id),
          );
          return;
        }
        for (const message of messages) this.broker.ack(connection, message.id);
      }),
    };
  }

  pause(): void {
    this.#paused = true;
    this.#wake.wake();
  }
  resume(): void {
    this.#paused = false;
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.wake();
    if (this.#connection !== undefined) this.broker.disconnect(this.#connection);
  }
}

/** A Kafka-like log: records stay; a consumer group commits the position after what it used. */
export class FakeLog {
  readonly messages: Message[] = [];
  committed = 0;
  /** Incremented by each drop: connections of an older epoch are gone. */
  epoch = 0;
  connected = 0;
  readonly waiters = new Waiters();

  publish(values: readonly Uint8Array[]): void {
    for (const value of values) this.messages.push({ id: this.messages.length, value });
    this.waiters.wake();
  }
  dropAll(): number {
    const count = this.connected;
    this.connected = 0;
    this.epoch++;
    this.waiters.wake();
    return count;
  }
  pending(): number {
    return this.messages.length - this.committed;
  }
}

/** A replayable source over `FakeLog`: offsets are the position after a record. */
export class FakeLogSource implements Source {
  #epoch: number | undefined;
  #position: number | undefined;
  #closed = false;
  #paused = false;
  #wake = new Waiters();

  constructor(
    readonly log: FakeLog,
    readonly bugs: SourceBugs,
    readonly maxRecordsPerRead: number,
  ) {}

  seek(offsets: ReadonlyMap<string, string>): void {
    const offset = offsets.get("log-0");
    if (offset !== undefined) this.#position = Number(offset) - (this.bugs.seekAtOffset ? 1 : 0);
  }

  async connect(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#epoch === this.log.epoch) return;
    // The bug: a reconnect fetches again from the committed position, while results read
    // before it are still outstanding (and their acknowledgement still commits).
    if (this.#epoch !== undefined && this.bugs.redeliverAfterReconnect)
      this.#position = this.log.committed;
    this.#epoch = this.log.epoch;
    this.log.connected++;
    this.#position ??= this.log.committed;
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw closedError();
    for (;;) {
      if (this.#epoch === undefined) throw new NotConnectedError("not connected");
      if (this.#epoch !== this.log.epoch)
        throw new NotConnectedError("the log dropped the connection");
      if (this.#paused || this.#closed || signal.aborted)
        return { records: [], ack: once(() => undefined) };
      const position = this.#position ?? 0;
      const limit = this.bugs.ignoreMaxRecords
        ? this.maxRecordsPerRead
        : Math.min(this.maxRecordsPerRead, options?.maxRecords ?? Number.POSITIVE_INFINITY);
      const taken = this.log.messages.slice(position, position + limit);
      if (taken.length > 0) {
        this.#position = position + taken.length;
        const end = position + taken.length;
        if (this.bugs.ackAtRead) this.log.committed = Math.max(this.log.committed, end);
        return {
          records: taken.map((message) => record(message, "log-0")),
          ack: once((error) => {
            if (error !== undefined) {
              this.#position = Math.min(this.#position ?? position, position);
              return;
            }
            this.log.committed = Math.max(this.log.committed, end);
          }),
        };
      }
      await Promise.race([this.log.waiters.wait(signal), this.#wake.wait(signal)]);
    }
  }

  pause(): void {
    this.#paused = true;
    this.#wake.wake();
  }
  resume(): void {
    this.#paused = false;
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.wake();
    if (this.#epoch === this.log.epoch) this.log.connected--;
  }
}

/**
 * A Redis-Streams-like stream with one consumer group: entries stay (read again by position),
 * the group keeps a pending list of entries delivered and not acknowledged, and the position of
 * the last entry it delivered.
 */
export class FakeStream {
  readonly messages: Message[] = [];
  /** The group's pending list: ids delivered and not acknowledged. */
  readonly pendingIds = new Set<number>();
  /** The group's position: entries before it were delivered. */
  lastDelivered = 0;
  epoch = 0;
  connected = 0;
  readonly waiters = new Waiters();

  publish(values: readonly Uint8Array[]): void {
    for (const value of values) this.messages.push({ id: this.messages.length, value });
    this.waiters.wake();
  }
  dropAll(): number {
    const count = this.connected;
    this.connected = 0;
    this.epoch++;
    this.waiters.wake();
    return count;
  }
  /** Entries the group would deliver again: never delivered since its position, or pending. */
  pending(): number {
    const owed = new Set(this.pendingIds);
    for (let id = this.lastDelivered; id < this.messages.length; id++) owed.add(id);
    return owed.size;
  }
  deliver(ids: readonly number[]): void {
    for (const id of ids) {
      this.pendingIds.add(id);
      this.lastDelivered = Math.max(this.lastDelivered, id + 1);
    }
  }
  ack(ids: readonly number[]): void {
    for (const id of ids) this.pendingIds.delete(id);
  }
}

/**
 * A source over `FakeStream` with acknowledgements that matter: a first run reads the group's
 * pending list, then new entries; `seek` moves the group back to the checkpoint (entries after
 * it are delivered again, once) and acknowledges what the checkpoint covers.
 */
export class FakeStreamSource implements Source {
  #seekTo: number | undefined;
  #epoch: number | undefined;
  #position = 0;
  /** Entries to deliver before new ones: the pending list on a first run, nacked entries. */
  #again: number[] = [];
  #closed = false;
  #paused = false;
  #wake = new Waiters();

  constructor(
    readonly stream: FakeStream,
    readonly bugs: SourceBugs,
    readonly maxRecordsPerRead: number,
  ) {}

  seek(offsets: ReadonlyMap<string, string>): void {
    const offset = offsets.get("stream-0");
    if (offset !== undefined) this.#seekTo = Number(offset);
  }

  async connect(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#epoch === this.stream.epoch) return;
    const first = this.#epoch === undefined;
    this.#epoch = this.stream.epoch;
    this.stream.connected++;
    if (!first) return; // a reconnect: the position and the entries to deliver again stay
    const seekTo = this.bugs.seekToGroup ? undefined : this.#seekTo;
    if (seekTo === undefined) {
      this.#again = [...this.stream.pendingIds].sort((a, b) => a - b);
      this.#position = this.stream.lastDelivered;
      return;
    }
    const covered = [...this.stream.pendingIds].filter((id) => id < seekTo);
    if (!this.bugs.seekKeepsCovered) this.stream.ack(covered);
    this.#position = seekTo - (this.bugs.seekAtOffset ? 1 : 0);
    this.stream.lastDelivered = this.#position;
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw closedError();
    for (;;) {
      if (this.#epoch === undefined) throw new NotConnectedError("not connected");
      if (this.#epoch !== this.stream.epoch)
        throw new NotConnectedError("the stream dropped the connection");
      if (this.#paused || this.#closed || signal.aborted)
        return { records: [], ack: once(() => undefined) };
      const limit = this.bugs.ignoreMaxRecords
        ? this.maxRecordsPerRead
        : Math.min(this.maxRecordsPerRead, options?.maxRecords ?? Number.POSITIVE_INFINITY);
      const ids = this.#again.splice(0, limit);
      while (ids.length < limit && this.#position < this.stream.messages.length) {
        ids.push(this.#position++);
      }
      if (ids.length > 0) {
        this.stream.deliver(ids);
        if (this.bugs.ackAtRead) this.stream.ack(ids);
        const messages = ids.flatMap((id) => this.stream.messages[id] ?? []);
        return {
          records: messages.map((message) => record(message, "stream-0")),
          ack: once((error) => {
            if (error === undefined) {
              this.stream.ack(ids);
              return;
            }
            this.#again = [...ids, ...this.#again].sort((a, b) => a - b);
            this.#wake.wake();
          }),
        };
      }
      await Promise.race([this.stream.waiters.wait(signal), this.#wake.wait(signal)]);
    }
  }

  pause(): void {
    this.#paused = true;
    this.#wake.wake();
  }
  resume(): void {
    this.#paused = false;
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.wake();
    if (this.#epoch === this.stream.epoch) this.stream.connected--;
  }
}

/** A stream source plugin (acknowledgements after output) with these bugs. */
export function streamSourcePlugin(stream: FakeStream, bugs: SourceBugs = {}) {
  return defineSource({
    name: "fake-stream",
    version: "1.0.0",
    config: CONFIG,
    capabilities: { replayable: true, acknowledgements: "after-output" },
    create: (config) => new FakeStreamSource(stream, bugs, config.maxRecordsPerRead),
  });
}

/** A queue source plugin with these bugs. */
export function queueSourcePlugin(broker: FakeQueueBroker, bugs: SourceBugs = {}) {
  return defineSource({
    name: "fake-queue",
    version: "1.0.0",
    config: CONFIG,
    capabilities: { replayable: false },
    create: (config) => new FakeQueueSource(broker, bugs, config.maxRecordsPerRead),
  });
}

/** A log source plugin with these bugs. */
export function logSourcePlugin(log: FakeLog, bugs: SourceBugs = {}) {
  return defineSource({
    name: "fake-log",
    version: "1.0.0",
    config: CONFIG,
    capabilities: { replayable: true },
    create: (config) => new FakeLogSource(log, bugs, config.maxRecordsPerRead),
  });
}

/** A store of batches keyed by idempotency key, reachable only while connected. */
export class FakeStore {
  readonly batches: { key: string; time: number; values: Uint8Array[] }[] = [];
  epoch = 0;
  connected = 0;
  dropAll(): number {
    const count = this.connected;
    this.connected = 0;
    this.epoch++;
    return count;
  }
  readBack(): Uint8Array[] {
    return [...this.batches].sort((a, b) => a.time - b.time).flatMap((batch) => batch.values);
  }
}

/** The bugs a fake sink can have. */
export interface SinkBugs {
  /** Declares itself idempotent but appends a replayed batch again. */
  readonly falselyIdempotent?: boolean;
  /** Resolves a write the store refused (the connection was gone) as if it succeeded. */
  readonly swallowWriteErrors?: boolean;
  /**
   * Keys a batch by its time and partition alone, as a file named by them would be: a second
   * copy of the job (another `writer`) writing the same batch replaces the first's.
   */
  readonly ignoresWriter?: boolean;
}

/** A sink over `FakeStore`. */
export class FakeSink implements Sink {
  #epoch: number | undefined;
  #closed = false;
  constructor(
    readonly store: FakeStore,
    readonly bugs: SinkBugs,
  ) {}
  async connect(): Promise<void> {
    if (this.#epoch === this.store.epoch) return;
    this.#epoch = this.store.epoch;
    this.store.connected++;
  }
  async writeBatch(
    records: readonly SinkRecord[],
    context: { batchTime: number; partition: number; idempotencyKey: string },
  ): Promise<void> {
    if (this.#closed) throw closedError();
    try {
      if (this.#epoch !== this.store.epoch)
        throw new NotConnectedError("the store dropped the connection");
    } catch (error) {
      if (this.bugs.swallowWriteErrors) return;
      throw error;
    }
    if (records.length === 0) return;
    const values = records.map((item) => item.value);
    const key = this.bugs.ignoresWriter
      ? `${context.batchTime}/${context.partition}`
      : context.idempotencyKey;
    const existing = this.store.batches.findIndex((batch) => batch.key === key);
    if (existing >= 0 && !this.bugs.falselyIdempotent) this.store.batches.splice(existing, 1);
    this.store.batches.push({ key, time: context.batchTime, values });
  }
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** A sink plugin with these bugs. */
export function sinkPlugin(store: FakeStore, bugs: SinkBugs = {}) {
  return defineSink({
    name: "fake-store",
    version: "1.0.0",
    config: CONFIG,
    capabilities: { idempotent: true },
    create: () => new FakeSink(store, bugs),
  });
}
