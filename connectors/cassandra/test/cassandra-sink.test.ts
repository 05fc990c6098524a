// The sink's retry, concurrency and failure handling, against a fake driver client.
import { type Client, errors, types } from "cassandra-driver";
import pino from "pino";
import { validateConfig } from "sluice";
import { describe, expect, it } from "vitest";
import { CassandraSink } from "../src/cassandra-sink.js";
import { cassandraSinkConfig } from "../src/sink-config.js";

const encoder = new TextEncoder();
const json = (value: unknown) => ({ value: encoder.encode(JSON.stringify(value)) });
const context = { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "job/1/0/0" };

/** A driver client that answers `execute` with what `answer` decides, and records the calls. */
class FakeClient {
  readonly calls: { cql: string; params: unknown[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  shutdowns = 0;
  constructor(private readonly answer: (call: number, params: unknown[]) => Promise<void>) {}
  metadata = {
    refreshKeyspace: async () => undefined,
    getTable: async () => ({
      columns: [{ name: "id" }, { name: "n" }],
      partitionKeys: [{ name: "id" }],
      clusteringKeys: [],
    }),
  };
  async connect(): Promise<void> {}
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
  async execute(cql: string, params: unknown[]): Promise<void> {
    this.calls.push({ cql, params });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.answer(this.calls.length, params);
    } finally {
      this.inFlight--;
    }
  }
}

function sinkWith(
  fake: FakeClient,
  extra: Record<string, unknown> = {},
  wait?: (ms: number, signal: AbortSignal) => Promise<void>,
) {
  const delays: number[] = [];
  const config = validateConfig(
    cassandraSinkConfig,
    { contactPoints: ["10.0.0.1:9042"], keyspace: "ks", table: "t", ...extra },
    "sink",
  );
  const sink = new CassandraSink(config, pino({ level: "silent" }), {
    createClient: () => fake as unknown as Client,
    probe: async () => ({ kind: "cassandra" }),
    delay: async (ms, signal) => {
      delays.push(ms);
      await wait?.(ms, signal);
    },
  });
  return { sink, delays };
}

const clientTimeout = () =>
  new errors.NoHostAvailableError({
    "10.0.0.1:9042": new errors.OperationTimedOutError(
      "The host 10.0.0.1:9042 did not reply before timeout 12000 ms",
      "10.0.0.1:9042",
    ),
  });
const writeTimeout = () =>
  new errors.ResponseError(
    types.responseErrorCodes.writeTimeout,
    "Operation timed out - received only 0 responses.",
  );
const unavailable = () =>
  new errors.ResponseError(
    types.responseErrorCodes.unavailableException,
    "Cannot achieve consistency",
  );
const noHost = () =>
  new errors.NoHostAvailableError({
    "10.0.0.1:9042": new Error("connect ECONNREFUSED 10.0.0.1:9042"),
  });

describe("CassandraSink", () => {
  it("retries the coordinator's write timeouts with doubling waits, capped, then succeeds", async () => {
    const fake = new FakeClient(async (call) => {
      if (call <= 4) throw writeTimeout();
    });
    const { sink, delays } = sinkWith(fake, {
      maxAttempts: 6,
      retryDelayMs: 100,
      maxRetryDelayMs: 500,
    });
    await sink.connect(AbortSignal.timeout(1_000));
    await sink.writeBatch([json({ id: 1, n: 2 })], context);
    expect(delays).toEqual([100, 200, 400, 500]);
    expect(sink.metrics).toMatchObject({ retries: 4, recordsOut: 1, writes: 1 });
    expect(fake.calls[0]?.cql).toBe(
      'INSERT INTO "ks"."t" ("id", "n") VALUES (?, ?) USING TIMESTAMP ?',
    );
    expect(String(fake.calls[0]?.params[2])).toBe("1700000000000000");
  });

  it("makes no further attempt, and ends the wait for one, once the job stops without draining", async () => {
    const fake = new FakeClient(async () => {
      throw writeTimeout();
    });
    const stopping = new AbortController();
    stopping.abort(new Error("stopping"));
    const { sink, delays } = sinkWith(fake, { maxAttempts: 6, retryDelayMs: 100 });
    await sink.connect(AbortSignal.timeout(1_000));
    await expect(
      sink.writeBatch([json({ id: 1 })], { ...context, retriesEnd: stopping.signal }),
    ).rejects.toThrow();
    expect(fake.calls).toHaveLength(1);
    expect(delays).toEqual([]);

    // Stopped while waiting before the second attempt: the wait ends, nothing more is sent.
    const later = new AbortController();
    const waiting = new FakeClient(async () => {
      throw writeTimeout();
    });
    const { sink: stopped, delays: waited } = sinkWith(
      waiting,
      { maxAttempts: 6, retryDelayMs: 100 },
      (_ms, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          later.abort(new Error("stopping"));
        }),
    );
    await stopped.connect(AbortSignal.timeout(1_000));
    await expect(
      stopped.writeBatch([json({ id: 1 })], { ...context, retriesEnd: later.signal }),
    ).rejects.toThrow("stopping");
    expect(waiting.calls).toHaveLength(1);
    expect(waited).toEqual([100]);
  });

  it("does not retry a request the node did not answer within requestTimeoutMs: the connection is lost", async () => {
    const fake = new FakeClient(async () => {
      throw clientTimeout();
    });
    const { sink, delays } = sinkWith(fake, { maxAttempts: 5, requestTimeoutMs: 12_000 });
    await sink.connect(AbortSignal.timeout(1_000));
    await expect(sink.writeBatch([json({ id: 1 })], context)).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining(
        'Cassandra at 10.0.0.1:9042 took the connection but did not answer within 12000 ms ("requestTimeoutMs")',
      ),
    });
    expect(fake.calls).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(sink.metrics).toMatchObject({ retries: 0, errors: 1 });
  });

  it("refuses a contact point where another kind of server answers before the driver connects", async () => {
    const fake = new FakeClient(async () => undefined);
    let connects = 0;
    fake.connect = async () => {
      connects++;
    };
    const config = validateConfig(
      cassandraSinkConfig,
      { contactPoints: ["10.0.0.1:9042", "10.0.0.2:8080"], keyspace: "ks", table: "t" },
      "sink",
    );
    const sink = new CassandraSink(config, pino({ level: "silent" }), {
      createClient: () => fake as unknown as Client,
      probe: async (point) =>
        point === "10.0.0.2:8080"
          ? { kind: "foreign", answer: '"HTTP/1.1 400 Bad Request"', tls: false }
          : { kind: "cassandra" },
    });
    await expect(sink.connect(AbortSignal.timeout(1_000))).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining(
        '10.0.0.2:8080 (it answered "HTTP/1.1 400 Bad Request") is not a Cassandra native-protocol port',
      ),
    });
    expect(connects).toBe(0);
    expect(fake.shutdowns).toBe(1);
  });

  it("gives up on an unavailable replica after maxAttempts with a BackoffError", async () => {
    const fake = new FakeClient(async () => {
      throw unavailable();
    });
    const { sink } = sinkWith(fake, { maxAttempts: 3 });
    await sink.connect(AbortSignal.timeout(1_000));
    await expect(sink.writeBatch([json({ id: 1 })], context)).rejects.toMatchObject({
      code: "SLUICE_BACKOFF",
    });
    expect(fake.calls).toHaveLength(3);
    expect(sink.metrics.errors).toBe(1);
  });

  it("reports unreachable nodes as NotConnected, and reconnects with a new client", async () => {
    let down = true;
    const fake = new FakeClient(async () => {
      if (down) throw noHost();
    });
    const { sink } = sinkWith(fake, { maxAttempts: 2 });
    await sink.connect(AbortSignal.timeout(1_000));
    await expect(sink.writeBatch([json({ id: 1 })], context)).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining("Is Cassandra running at 10.0.0.1:9042?"),
    });
    await expect(sink.writeBatch([json({ id: 1 })], context)).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
    down = false;
    await sink.connect(AbortSignal.timeout(1_000));
    expect(fake.shutdowns).toBe(1);
    await sink.writeBatch([json({ id: 1 })], context);
  });

  it("never has more than `concurrency` writes in flight, and stops starting new ones after a failure", async () => {
    const fake = new FakeClient(async (call) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (call === 10)
        throw new errors.ResponseError(types.responseErrorCodes.invalid, "bad value");
    });
    const { sink } = sinkWith(fake, { concurrency: 4 });
    await sink.connect(AbortSignal.timeout(1_000));
    const records = Array.from({ length: 40 }, (_, id) => json({ id }));
    await expect(sink.writeBatch(records, context)).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining("Record 9 of the batch"),
    });
    expect(fake.maxInFlight).toBe(4);
    expect(fake.calls.length).toBeLessThan(40);
  });

  it("refuses writes after close, and close waits for the write in progress", async () => {
    let release: () => void = () => undefined;
    const fake = new FakeClient(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    const { sink } = sinkWith(fake);
    await sink.connect(AbortSignal.timeout(1_000));
    const writing = sink.writeBatch([json({ id: 1 })], context);
    await new Promise((resolve) => setImmediate(resolve));
    let closed = false;
    const closing = sink.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await writing;
    await closing;
    expect(fake.shutdowns).toBe(1);
    await expect(sink.writeBatch([], context)).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_CLOSED",
    });
  });
});
