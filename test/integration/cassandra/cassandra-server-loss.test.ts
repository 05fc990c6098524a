// The node is stopped mid-stream and started again (scripts/services/stop cassandra, start
// cassandra) while batches keep coming, written through Sluice's retry loop (SinkSession);
// afterwards the table holds every row exactly as written.
import type { Client } from "cassandra-driver";
import { type BackoffPolicy, type ConnectorRegistry, SinkSession } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../kafka/kafka-helpers.js";
import { lockService, startService, stopService } from "../kafka/services.js";
import {
  CONTACT_POINTS,
  cassandraRegistry,
  connectClient,
  createCassandraSink,
  createKeyspace,
  uniqueName,
} from "./cassandra-helpers.js";

let client: Client | undefined;
let unlock: () => Promise<void>;
let registry: ConnectorRegistry;
const keyspace = uniqueName("loss");
const FAST: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0 };
const BATCHES = 20;
const ROWS = 10;
const encoder = new TextEncoder();

beforeAll(async () => {
  unlock = await lockService("cassandra");
  const setup = await connectClient();
  await createKeyspace(setup, keyspace);
  await setup.execute(
    `CREATE TABLE ${keyspace}.events (id int PRIMARY KEY, "batch" int, value text)`,
  );
  await setup.shutdown();
  registry = cassandraRegistry();
});

afterAll(async () => {
  await registry?.dispose();
  // Whatever happened, leave the node running for whoever comes next.
  await startService("cassandra");
  client ??= await connectClient();
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.shutdown();
  await unlock?.();
});

describe("cassandra server loss", () => {
  it("reconnects by itself after the node restarts; the table ends exactly as written", async () => {
    const sink = createCassandraSink(registry, {
      contactPoints: CONTACT_POINTS,
      keyspace,
      table: "events",
      maxAttempts: 3,
      retryDelayMs: 50,
      connectTimeoutMs: 2_000,
    });
    const session = new SinkSession(sink, { backoff: FAST });
    const stop = new AbortController();
    let written = 0;
    // A batch every 50 ms, as a job with that batch interval writes them.
    const writing = (async () => {
      for (let batch = 0; batch < BATCHES; batch++) {
        const records = Array.from({ length: ROWS }, (_, index) => ({
          value: encoder.encode(
            JSON.stringify({ id: batch * ROWS + index, batch, value: `v${batch}-${index}` }),
          ),
        }));
        const batchTime = 1_700_000_000_000 + batch * 50;
        await session.write(
          records,
          { batchTime, partition: 0, idempotencyKey: `loss/${batchTime}/0/0` },
          stop.signal,
        );
        written = batch + 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let failure: unknown;
    writing.catch((error: unknown) => {
      failure = error;
    });
    const reached = (batches: number) => () => {
      if (failure !== undefined) throw failure;
      return written >= batches;
    };
    try {
      await until(reached(5), 30_000, "the first 5 batches written");
      await stopService("cassandra");
      const duringOutage = written;
      await startService("cassandra");
      await until(reached(BATCHES), 90_000, `all ${BATCHES} batches written`);
      await writing;
      expect(duringOutage).toBeLessThan(BATCHES);
    } finally {
      stop.abort();
      await writing.catch(() => undefined);
    }

    client = await connectClient();
    const result = await client.execute(`SELECT id, "batch", value FROM ${keyspace}.events`);
    const rows = result.rows
      .map((row) => `${row.get("id")}:${row.get("batch")}:${row.get("value")}`)
      .sort();
    const expected = Array.from({ length: BATCHES * ROWS }, (_, id) => {
      const batch = Math.floor(id / ROWS);
      return `${id}:${batch}:v${batch}-${id % ROWS}`;
    }).sort();
    expect(rows).toEqual(expected);
    // The loss was felt: writes failed and were retried.
    expect(sink.metrics.errors + sink.metrics.retries).toBeGreaterThan(0);
  }, 150_000);
});
