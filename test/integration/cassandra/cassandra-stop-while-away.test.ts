// A job stopped without draining (ctx.stop()) while its Cassandra sink reconnects in the batch in
// progress: the stop does not wait for the node. The connections go through a loopback proxy the
// test cuts (the shared node keeps running) and restores only once the stop resolved. Every
// batch the job completed is in the table; the batch the stop cut off fails (nothing of it is
// acknowledged).
// And the other way round: a stop while the node answers still finishes the batch in progress.
import { type Batch, batchRecords } from "sluice";
import { beforeEach, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { CuttableProxy } from "../../support/cuttable-proxy.js";
import { queuedJob } from "../../support/queued-job.js";
import { CASSANDRA_PORT } from "./cassandra-helpers.js";
import { keyspaceSuite } from "./keyspace-suite.js";

let proxy: CuttableProxy;
const suite = keyspaceSuite("stopaway");
const { keyspace } = suite;
const ROWS = 60;
let tables = 0;
let table: string;

beforeEach(async () => {
  table = `readings${++tables}`;
  await suite.client.execute(
    `CREATE TABLE ${keyspace}.${table} (id int PRIMARY KEY, part int, n int)`,
  );
});

function readingsOf(batch: number): string[] {
  return Array.from({ length: ROWS }, (_, index) =>
    JSON.stringify({ id: batch * 1_000 + index, part: batch, n: index }),
  );
}

/** A one-partition job writing the readings of each of `batches`, queued, through the proxy. */
const job = (batches: readonly number[]) =>
  queuedJob("stop-while-away", batches.map(readingsOf), cassandraSink);

const sinkConfig = () => ({
  contactPoints: [proxy.address],
  keyspace,
  table,
  concurrency: 4,
  maxAttempts: 2,
  retryDelayMs: 10,
  maxRetryDelayMs: 20,
  connectTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
});
const backoff = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 };

async function rowsOf(part: number): Promise<{ id: number; at: string }[]> {
  const result = await suite.client.execute(
    `SELECT id, WRITETIME(n) AS at FROM ${keyspace}.${table} WHERE part = ? ALLOW FILTERING`,
    [part],
    { prepare: true },
  );
  return result.rows
    .map((row) => ({ id: Number(row.get("id")), at: String(row.get("at")) }))
    .sort((a, b) => a.id - b.id);
}

const expectedRows = (batch: number) =>
  Array.from({ length: ROWS }, (_, index) => ({
    id: batch * 1_000 + index,
    at: String(batch * 1_000 * 1_000 + index),
  }));

describe("ctx.stop() without draining while the Cassandra sink reconnects", () => {
  it("resolves while the node is still away, and every batch the job completed is in the table", async () => {
    proxy = await CuttableProxy.start(CASSANDRA_PORT);
    const { ctx, clock, input: readings, outcomes } = job([1, 2, 3]);
    readings.sink("cassandra", sinkConfig(), { id: "readings", backoff });
    let restored = false;
    try {
      await ctx.start();
      clock.advance(1000);
      await ctx.scope.awaitProcessed(1000);
      expect(outcomes).toEqual(["1000 written"]);

      // The second batch's connections are cut after a few of its requests went through and
      // stay refused: the sink is reconnecting (with backoff) once two reconnects were refused.
      proxy.cutAfterClientChunks(3);
      const refusedBefore = proxy.counts.refused;
      clock.advance(1000);
      await proxy.until((counts) => counts.refused >= refusedBefore + 2);
      expect(outcomes).toEqual(["1000 written"]); // the batch waits for the node

      await ctx.stop();
      // Reached only if the stop ended while every connection to the node is still refused.
      expect(restored).toBe(false);
      expect(ctx.state).toBe("STOPPED");
      // The cut-off batch is the stop's doing, not the job's error.
      await expect(ctx.awaitTermination()).resolves.toBeUndefined();
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      restored = true;
      proxy.restore();
      await ctx.stop();
      await proxy.close();
    }
    // The batch the stop cut off failed: nothing of it is acknowledged.
    expect(outcomes).toEqual(["1000 written", "2000 failed"]);
    // What the job completed is all there, each row once with its batch's write timestamp; the
    // cut-off batch was not (its rows come again when its input is replayed).
    expect(await rowsOf(1)).toEqual(expectedRows(1));
    expect((await rowsOf(2)).length).toBeLessThan(ROWS);
    expect(await rowsOf(3)).toEqual([]);
  }, 120_000);

  it("still finishes the batch in progress when the node answers", async () => {
    proxy = await CuttableProxy.start(CASSANDRA_PORT);
    const { ctx, clock, input: readings, outcomes } = job([1]);
    let enter: () => void = () => undefined;
    const entered = new Promise<void>((resolve) => {
      enter = resolve;
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // An output before the sink holds the batch, so the stop starts while it is in progress
    // and the sink's first connect and write come after it.
    readings.foreachBatch(async (batch: Batch<string>) => {
      if (batchRecords(batch).length === 0) return;
      enter();
      await released;
    });
    readings.sink("cassandra", sinkConfig(), { id: "readings", backoff });
    try {
      await ctx.start();
      clock.advance(1000);
      await entered;
      const stopping = ctx.stop();
      release();
      await stopping;
    } finally {
      await ctx.stop();
      await proxy.close();
    }
    expect(ctx.scope.firstError()).toBeUndefined();
    expect(outcomes).toEqual(["1000 written"]);
    expect(await rowsOf(1)).toEqual(expectedRows(1));
  }, 120_000);
});
