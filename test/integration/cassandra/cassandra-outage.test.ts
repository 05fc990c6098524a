// Cassandra going away in the middle of a job's batch and coming back, through a proxy on
// loopback that the test cuts (the shared node itself keeps running): the sink's writes fail,
// Sluice reconnects with backoff while the node is away and writes the whole batch again once it
// is back. Every row of every batch is in the table once, with the write timestamp of its batch
// and index (a rewrite changes nothing), and the job records no error.
import type { Client } from "cassandra-driver";
import { type Batch, batchRecords, closeConnectorsOf, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { lockService } from "../kafka/services.js";
import { CASSANDRA_PORT, connectClient, createKeyspace, uniqueName } from "./cassandra-helpers.js";

let client: Client;
let unlock: () => Promise<void>;
let proxy: CuttableProxy;
const keyspace = uniqueName("outage");
const BATCHES = 3;
const ROWS = 120;

beforeAll(async () => {
  unlock = await lockService("cassandra");
  client = await connectClient();
  await createKeyspace(client, keyspace);
  await client.execute(`CREATE TABLE ${keyspace}.readings (id int PRIMARY KEY, part int, n int)`);
  proxy = await CuttableProxy.start(CASSANDRA_PORT);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client?.shutdown();
  await unlock?.();
});

function readingsOf(batch: number): string[] {
  return Array.from({ length: ROWS }, (_, index) =>
    JSON.stringify({ id: batch * 1_000 + index, part: batch, n: index * 7 }),
  );
}

describe("cassandra sink when the node goes away in the middle of a batch", () => {
  it("writes the batch again once the node is back: nothing lost, nothing changed twice", async () => {
    const clock = new ManualClock(0);
    // One partition: record i of a batch is index i of its writeBatch.
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock,
      appName: "outage",
      defaultParallelism: 1,
    });
    ctx.use(cassandraSink);
    const readings = ctx.queueStream(
      Array.from({ length: BATCHES }, (_, batch) => readingsOf(batch + 1)),
    );
    const written: number[] = [];
    readings.sink(
      "cassandra",
      {
        contactPoints: [proxy.address],
        keyspace,
        table: "readings",
        concurrency: 8,
        maxAttempts: 2,
        retryDelayMs: 10,
        maxRetryDelayMs: 50,
        connectTimeoutMs: 2_000,
        requestTimeoutMs: 5_000,
      },
      {
        id: "readings",
        backoff: { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 },
      },
    );
    readings.foreachBatch((batch: Batch<string>, time) => {
      if (batchRecords(batch).length > 0) written.push(time);
    });
    await ctx.start();
    try {
      clock.advance(1000);
      await ctx.scope.awaitProcessed(1000);
      expect(written).toEqual([1000]);

      // The second batch: its connections are cut after a few of its requests went through,
      // and stay refused until the sink has tried to reconnect twice.
      proxy.cutAfterClientChunks(3);
      const refusedBefore = proxy.counts.refused;
      clock.advance(1000);
      await proxy.until((counts) => counts.refused >= refusedBefore + 2);
      expect(written).toEqual([1000]); // the batch waits for Cassandra
      const partial = await client.execute(
        `SELECT COUNT(*) AS rows FROM ${keyspace}.readings WHERE part = 2 ALLOW FILTERING`,
      );
      expect(Number(partial.first()?.get("rows"))).toBeLessThan(ROWS); // cut mid-batch
      proxy.restore();
      await ctx.scope.awaitProcessed(2000);
      clock.advance(1000);
      await ctx.scope.awaitProcessed(3000);
      expect(ctx.scope.firstError()).toBeUndefined();
      expect(written).toEqual([1000, 2000, 3000]);
      expect(proxy.counts.reset).toBeGreaterThan(0);
    } finally {
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }

    const result = await client.execute(
      `SELECT id, part, n, WRITETIME(n) AS at FROM ${keyspace}.readings`,
    );
    const rows = result.rows
      .map((row) => ({
        id: Number(row.get("id")),
        part: Number(row.get("part")),
        n: Number(row.get("n")),
        at: String(row.get("at")),
      }))
      .sort((a, b) => a.id - b.id);
    const expected = Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: ROWS }, (_, index) => ({
        id: (b + 1) * 1_000 + index,
        part: b + 1,
        n: index * 7,
        // Record i of the batch at t is written at t·1000 + i µs, on every attempt.
        at: String((b + 1) * 1_000 * 1_000 + index),
      })),
    ).flat();
    expect(rows).toEqual(expected);
  }, 180_000);
});
