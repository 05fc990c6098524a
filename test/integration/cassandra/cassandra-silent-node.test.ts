// A node that takes the connection and then never answers (through a loopback proxy the test
// silences; the shared node keeps running): a write fails once `requestTimeoutMs` has passed, as
// a lost connection naming the address and the setting, without the sink retrying the timed-out
// statements; connecting meanwhile fails the same way; once the node answers again the batch is
// written. The config schema refuses a bad `requestTimeoutMs` naming the field.
import type { ConnectorRegistry } from "sluice/advanced";
import type { WriteBatchContext } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { CASSANDRA_PORT, cassandraRegistry, createCassandraSink } from "./cassandra-helpers.js";
import { keyspaceSuite } from "./keyspace-suite.js";

let registry: ConnectorRegistry;
let proxy: CuttableProxy;
const suite = keyspaceSuite("silent", ["readings (id int PRIMARY KEY, n int)"]);
const { keyspace } = suite;
const encoder = new TextEncoder();
const json = (value: unknown) => ({ value: encoder.encode(JSON.stringify(value)) });
const signal = () => AbortSignal.timeout(60_000);
const batch = (n: number): WriteBatchContext => ({
  batchTime: 1_700_000_000_000 + n * 1_000,
  partition: 0,
  idempotencyKey: `silent/${n}/0/0`,
});
// Small, so the test is short; nothing asserts on how long anything took.
const REQUEST_TIMEOUT_MS = 1_500;

beforeEach(async () => {
  registry = cassandraRegistry();
  proxy = await CuttableProxy.start(CASSANDRA_PORT);
});

afterEach(async () => {
  await registry.dispose();
  await proxy.close();
});

async function ids(): Promise<number[]> {
  const result = await suite.client.execute(`SELECT id FROM ${keyspace}.readings`);
  return result.rows.map((row) => Number(row.get("id"))).sort((a, b) => a - b);
}

const readings = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => json({ id: from + index, n: index }));

describe("cassandra sink and a node that never answers", () => {
  it("fails the write as a lost connection after one requestTimeoutMs, naming the address and the setting", async () => {
    const sink = createCassandraSink(registry, {
      contactPoints: [proxy.address],
      keyspace,
      table: "readings",
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxAttempts: 5,
      retryDelayMs: 10,
    });
    await sink.connect(signal());
    await sink.writeBatch(readings(0, 5), batch(0));

    proxy.silence();
    const failure = await sink.writeBatch(readings(5, 5), batch(1)).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_NOT_CONNECTED");
    expect(failure?.message).toContain(`Cassandra at ${proxy.address} took the connection`);
    expect(failure?.message).toContain(`within ${REQUEST_TIMEOUT_MS} ms ("requestTimeoutMs")`);
    expect(failure?.message).toContain('raise "requestTimeoutMs"');
    expect(proxy.counts.swallowed).toBeGreaterThan(0); // the statements reached the silent node
    // No statement was tried again on the silent connection: one timeout ends the write.
    expect(sink.metrics).toMatchObject({ retries: 0, recordsOut: 5, writes: 1, errors: 1 });
    expect(await ids()).toEqual([0, 1, 2, 3, 4]);

    // Connecting while the node stays silent ends too, the same way.
    const silencedBefore = proxy.counts.silenced;
    await expect(sink.connect(signal())).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining('("requestTimeoutMs")'),
    });
    expect(proxy.counts.silenced).toBeGreaterThan(silencedBefore);

    proxy.restore();
    await sink.connect(signal());
    await sink.writeBatch(readings(5, 5), batch(1));
    expect(await ids()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sink.metrics).toMatchObject({ recordsOut: 10, writes: 2 });
  }, 120_000);

  it("refuses to connect to a listener that takes the connection and never answers, naming the setting", async () => {
    proxy.silence(); // from the start: nothing of Cassandra ever answers there
    const sink = createCassandraSink(registry, {
      contactPoints: [proxy.address],
      keyspace,
      table: "readings",
      connectTimeoutMs: 1_000,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const failure = await sink.connect(signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_NOT_CONNECTED");
    expect(failure?.message).toContain(`Cassandra at ${proxy.address} took the connection`);
    expect(failure?.message).toContain(`within ${REQUEST_TIMEOUT_MS} ms ("requestTimeoutMs")`);
    expect(proxy.counts.silenced).toBeGreaterThan(0);
    expect(proxy.counts.forwarded).toBe(0);
  }, 60_000);

  it("refuses a requestTimeoutMs or connectTimeoutMs that is not a positive number of ms, naming the field", () => {
    const base = { contactPoints: [proxy.address], keyspace, table: "readings" };
    for (const [field, value] of [
      ["requestTimeoutMs", 0],
      ["requestTimeoutMs", "12s"],
      ["connectTimeoutMs", -1],
    ] as const) {
      expect(() => createCassandraSink(registry, { ...base, [field]: value })).toThrow(
        expect.objectContaining({
          code: "SLUICE_INVALID_CONFIG",
          message: expect.stringContaining(field),
        }),
      );
    }
  });
});
