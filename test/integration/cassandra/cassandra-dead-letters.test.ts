// A job writing to Cassandra with a dead-letter sink: the records Cassandra cannot take (not
// JSON, empty, a value of the wrong type, no primary key) go to the dead letters, each with the
// reason naming it, and every other record of the batch is written; the job goes on.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { runFirstBatch } from "../../support/first-batch.js";
import { lockService } from "../kafka/services.js";
import { CONTACT_POINTS, connectClient, createKeyspace, uniqueName } from "./cassandra-helpers.js";

let client: Client;
let unlock: () => Promise<void>;
let folder: string;
const keyspace = uniqueName("dead_letters");

beforeAll(async () => {
  unlock = await lockService("cassandra");
  client = await connectClient();
  await createKeyspace(client, keyspace);
  await client.execute(
    `CREATE TABLE ${keyspace}.readings (sensor text PRIMARY KEY, readings int, avg double)`,
  );
  folder = await mkdtemp(join(tmpdir(), "sluice-cassandra-dead-letters-"));
}, 120_000);

afterAll(async () => {
  await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client?.shutdown();
  if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  await unlock?.();
});

async function deadLetters(directory: string): Promise<Record<string, unknown>[]> {
  const letters: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (name.startsWith(".")) continue;
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line !== "") letters.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return letters;
}

describe("cassandra sink in a job with dead letters", () => {
  it("sends each record Cassandra cannot take to the dead letters and writes the others", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, appName: "bad-readings" });
    ctx.use(cassandraSink);
    const dead = join(folder, "dead");
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    const batch = [
      JSON.stringify({ sensor: "s1", readings: 3, avg: 20.5 }),
      "{not json",
      JSON.stringify({ sensor: "s2", readings: 4, avg: "warm" }),
      "",
      JSON.stringify({ readings: 1, avg: 1 }),
      JSON.stringify({ sensor: "s3", readings: 5, avg: 19 }),
    ];
    ctx.queueStream([batch], { oneAtATime: true }).sink("cassandra", {
      contactPoints: CONTACT_POINTS,
      keyspace,
      table: "readings",
      concurrency: 1,
    });
    await runFirstBatch(ctx, clock);

    const rows = await client.execute(`SELECT sensor, readings, avg FROM ${keyspace}.readings`);
    expect(
      rows.rows
        .map((row) => [row.get("sensor"), row.get("readings"), row.get("avg")])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ["s1", 3, 20.5],
      ["s3", 5, 19],
    ]);
    const letters = await deadLetters(dead);
    expect(letters.map((letter) => letter.record)).toEqual([
      "{not json",
      JSON.stringify({ sensor: "s2", readings: 4, avg: "warm" }),
      "",
      JSON.stringify({ readings: 1, avg: 1 }),
    ]);
    expect(letters.map((letter) => letter.error)).toEqual([
      expect.stringContaining("is not JSON"),
      expect.stringContaining('column "avg" (double, from field "avg") cannot take "warm"'),
      expect.stringContaining("is not JSON"),
      expect.stringContaining('no value for the primary key column "sensor"'),
    ]);
  }, 120_000);

  it("fails the batch naming the table when the table is dropped, and sends no record to the dead letters", async () => {
    await client.execute(
      `CREATE TABLE ${keyspace}.dropped (sensor text PRIMARY KEY, readings int)`,
    );
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, appName: "dropped-table" });
    ctx.use(cassandraSink);
    const dead = join(folder, "dead-dropped");
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    // The second batch writes other columns: a statement the sink has not prepared yet.
    const first = [1, 2, 3].map((n) => JSON.stringify({ sensor: `s${n}`, readings: n }));
    const second = [4, 5, 6].map((n) => JSON.stringify({ sensor: `s${n}` }));
    ctx
      .queueStream([first, second])
      .sink(
        "cassandra",
        { contactPoints: CONTACT_POINTS, keyspace, table: "dropped" },
        { backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2, jitter: 0 } },
      );
    await ctx.start();
    try {
      clock.advance(1000);
      await ctx.scope.awaitProcessed(1000);
      expect(ctx.scope.firstError()).toBeUndefined();
      await client.execute(`DROP TABLE ${keyspace}.dropped`);
      clock.advance(1000);
      await ctx.scope.awaitProcessed(2000).catch(() => undefined);
      expect(ctx.scope.firstError()).toMatchObject({
        message: expect.stringContaining(`has no table "${keyspace}"."dropped"`),
      });
    } finally {
      await ctx.stop().catch(() => undefined);
      await closeConnectorsOf(ctx);
    }
    expect(await deadLetters(dead).catch(() => [])).toEqual([]);
  }, 120_000);

  it("keeps the last record of a key when records before it went to the dead letters", async () => {
    await client.execute(
      `CREATE TABLE ${keyspace}.latest (sensor text PRIMARY KEY, reading text, n int)`,
    );
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock,
      appName: "latest",
      defaultParallelism: 1,
    });
    ctx.use(cassandraSink);
    ctx.deadLetters("file", { directory: join(folder, "dead-latest"), format: "jsonl" });
    // Three writes start at once: the two bad ones fail while the first record of "k" is
    // written; the batch is then written again without each bad record in turn.
    const records = [
      { sensor: "x0", n: "bad" },
      { sensor: "x1", n: "bad" },
      { sensor: "k", reading: "zzz", n: 1 },
      { sensor: "k", reading: "aaa", n: 2 },
    ].map((record) => JSON.stringify(record));
    ctx.queueStream([records]).sink("cassandra", {
      contactPoints: CONTACT_POINTS,
      keyspace,
      table: "latest",
      concurrency: 3,
    });
    await runFirstBatch(ctx, clock);
    const result = await client.execute(`SELECT sensor, reading, n FROM ${keyspace}.latest`);
    expect(result.rows.map((row) => [row.get("sensor"), row.get("reading"), row.get("n")])).toEqual(
      [["k", "aaa", 2]],
    );
    // In the order the writes failed, which concurrent writes do not fix.
    const letters = await deadLetters(join(folder, "dead-latest"));
    expect(letters.map((letter) => letter.record).sort()).toEqual(records.slice(0, 2));
  }, 120_000);
});
