// The Cassandra sink against the local node: JSON rows and column mapping, idempotent replays,
// names that cannot inject CQL, schema creation, bad records, consistency and retries,
// missing tables, unreachable nodes, and loading a table for joins.
import type { Client } from "cassandra-driver";
import { type ConnectorRegistry, SinkSession } from "sluice/advanced";
import type { WriteBatchContext } from "sluice/connector";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  cassandraTable,
  checkConnection,
  type RecordPosition,
} from "../../../connectors/cassandra/src/index.js";
import { lockService } from "../kafka/services.js";
import {
  CONTACT_POINTS,
  cassandraRegistry,
  connectClient,
  createCassandraSink,
  createKeyspace,
  uniqueName,
} from "./cassandra-helpers.js";

let client: Client;
let unlock: () => Promise<void>;
let registry: ConnectorRegistry;
const keyspace = uniqueName("sink");
const encoder = new TextEncoder();
const json = (value: unknown) => ({ value: encoder.encode(JSON.stringify(value)) });
const signal = () => AbortSignal.timeout(30_000);
const batch = (n: number, partition = 0): WriteBatchContext => ({
  batchTime: 1_700_000_000_000 + n * 1_000,
  partition,
  idempotencyKey: `test/${n}/0/${partition}`,
});
let tables = 0;

beforeAll(async () => {
  unlock = await lockService("cassandra");
  client = await connectClient();
  await createKeyspace(client, keyspace);
});

afterAll(async () => {
  await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client?.shutdown();
  await unlock?.();
});

beforeEach(() => {
  registry = cassandraRegistry();
});

afterEach(async () => {
  await registry.dispose();
});

async function newTable(columns: string): Promise<string> {
  const table = `t${++tables}`;
  await client.execute(`CREATE TABLE ${keyspace}.${table} (${columns})`);
  return table;
}

async function rows(table: string, columns = "*"): Promise<Record<string, unknown>[]> {
  const result = await client.execute(`SELECT ${columns} FROM ${keyspace}.${table}`);
  return result.rows.map((row) => Object.fromEntries(row.keys().map((key) => [key, row.get(key)])));
}

function sinkConfig(table: string, extra: Record<string, unknown> = {}) {
  return { contactPoints: CONTACT_POINTS, keyspace, table, ...extra };
}

describe("cassandra sink", () => {
  it("upserts JSON objects, mapping columns from nested fields and converting types", async () => {
    const table = await newTable(
      "id uuid PRIMARY KEY, name text, visits bigint, score double, active boolean, seen timestamp, tags list<text>, sizes map<text, int>",
    );
    const sink = createCassandraSink(
      registry,
      sinkConfig(table, {
        columns: {
          id: "id",
          name: "user.name",
          visits: "stats.visits",
          score: "stats.score",
          active: "active",
          seen: "seenAt",
          tags: "tags",
          sizes: "sizes",
        },
      }),
    );
    await sink.connect(signal());
    const id = "5b6962dd-3f90-4c93-8f61-eabfa4a803e2";
    await sink.writeBatch(
      [
        json({
          id,
          user: { name: "ada" },
          stats: { visits: 9_007_199_254_740_000, score: 2.5 },
          active: true,
          seenAt: 1_700_000_000_123,
          tags: ["a", "b"],
          sizes: { s: 1, m: 2 },
        }),
      ],
      batch(0),
    );
    // A later record without some fields leaves those columns as they were.
    await sink.writeBatch([json({ id, stats: { visits: 10 } })], batch(1));
    const [row] = await rows(table);
    expect(String(row?.id)).toBe(id);
    expect(row?.name).toBe("ada");
    expect(String(row?.visits)).toBe("10");
    expect(row?.score).toBe(2.5);
    expect(row?.active).toBe(true);
    expect(row?.seen).toEqual(new Date(1_700_000_000_123));
    expect(row?.tags).toEqual(["a", "b"]);
    expect(row?.sizes).toEqual({ s: 1, m: 2 });
    expect(sink.metrics).toMatchObject({ recordsOut: 2, writes: 2, errors: 0 });
  });

  it("leaves the table unchanged when a batch is written again, and an older replay never wins", async () => {
    const table = await newTable("word text PRIMARY KEY, count bigint");
    const sink = createCassandraSink(registry, sinkConfig(table));
    await sink.connect(signal());
    const first = [json({ word: "a", count: 1 }), json({ word: "b", count: 1 })];
    const second = [json({ word: "a", count: 3 }), json({ word: "c", count: 1 })];
    await sink.writeBatch(first, batch(1));
    await sink.writeBatch(second, batch(2));
    const snapshot = async () =>
      (await rows(table, "word, count, writetime(count) AS at"))
        .map((row) => `${row.word}=${row.count}@${row.at}`)
        .sort();
    const before = await snapshot();
    expect(before).toEqual([
      "a=3@1700000002000000",
      "b=1@1700000001000001",
      "c=1@1700000002000001",
    ]);
    await sink.writeBatch(second, batch(2));
    expect(await snapshot()).toEqual(before);
    // A replay of the older batch (after a crash) does not undo the newer one.
    await sink.writeBatch(first, batch(1));
    expect(await snapshot()).toEqual(before);
  });

  it("keeps the last record of a key within a batch", async () => {
    const table = await newTable("word text PRIMARY KEY, count bigint");
    const sink = createCassandraSink(registry, sinkConfig(table, { concurrency: 8 }));
    await sink.connect(signal());
    const records = Array.from({ length: 40 }, (_, index) => json({ word: "w", count: index }));
    await sink.writeBatch(records, batch(0));
    expect((await rows(table)).map((row) => String(row.count))).toEqual(["39"]);
  });

  it("maps records with a function when values are not JSON objects", async () => {
    const table = await newTable("word text PRIMARY KEY, count bigint, batch_time bigint");
    const decoder = new TextDecoder();
    const sink = createCassandraSink(
      registry,
      sinkConfig(table, {
        mapRecord: (record: { key?: Uint8Array; value: Uint8Array }, position: RecordPosition) => ({
          word: decoder.decode(record.key),
          count: Number(decoder.decode(record.value)),
          batch_time: position.batchTime,
        }),
      }),
    );
    await sink.connect(signal());
    await sink.writeBatch([{ key: encoder.encode("x"), value: encoder.encode("7") }], batch(4));
    const [row] = await rows(table);
    expect([row?.word, String(row?.count), String(row?.batch_time)]).toEqual([
      "x",
      "7",
      "1700000004000",
    ]);
  });

  it("refuses names that could inject CQL, and quotes the names it takes", async () => {
    const guard = await newTable("id int PRIMARY KEY");
    const attacks = [
      { table: `t"; DROP KEYSPACE ${keyspace}; --` },
      { keyspace: `${keyspace}.x` },
      { columns: { 'id" text); DROP TABLE x; --': "id" } },
      { columns: { id: "id" }, schema: { columns: { "a b": "text" }, partitionKey: ["a b"] } },
    ];
    for (const attack of attacks) {
      expect(() => createCassandraSink(registry, sinkConfig(guard, attack))).toThrowError(
        expect.objectContaining({ code: "SLUICE_INVALID_CONFIG" }),
      );
    }
    expect(() =>
      createCassandraSink(
        registry,
        sinkConfig("t", {
          schema: { columns: { id: "int); DROP TABLE x" }, partitionKey: ["id"] },
        }),
      ),
    ).toThrowError(expect.objectContaining({ code: "SLUICE_INVALID_CONFIG" }));
    // Field names of JSON rows become column names only when they are plain names.
    const sink = createCassandraSink(registry, sinkConfig(guard));
    await sink.connect(signal());
    await expect(
      sink.writeBatch(
        [json({ id: 1 }), json({ id: 2, 'x") VALUES (1); DROP TABLE t1; --': 1 })],
        batch(0),
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining("Record 1 of the batch at 1700000000000 (partition 0)"),
    });
    const still = await client.metadata.getTable(keyspace, guard);
    expect(still?.name).toBe(guard);
    // Reserved words and upper case are fine as names: they are always quoted.
    const created = createCassandraSink(
      registry,
      sinkConfig("Orders", {
        schema: {
          columns: { order: "int", Select: "text", at: "timestamp" },
          partitionKey: ["order"],
          clusteringKey: ["at"],
        },
      }),
    );
    await created.connect(signal());
    await created.writeBatch([json({ order: 1, Select: "yes", at: 1_700_000_000_000 })], batch(0));
    const result = await client.execute(`SELECT "order", "Select" FROM ${keyspace}."Orders"`);
    expect(result.first()?.get("Select")).toBe("yes");
  });

  it("creates the keyspace and table from a declared schema", async () => {
    const ownKeyspace = uniqueName("created");
    try {
      const sink = createCassandraSink(registry, {
        contactPoints: CONTACT_POINTS,
        keyspace: ownKeyspace,
        table: "events",
        schema: {
          columns: {
            tenant: "text",
            at: "timestamp",
            kind: "text",
            payload: "map<text, frozen<list<int>>>",
          },
          partitionKey: ["tenant"],
          clusteringKey: ["at", "kind"],
        },
      });
      await sink.connect(signal());
      await sink.writeBatch(
        [json({ tenant: "t1", at: 1_700_000_000_000, kind: "click", payload: { x: [1, 2] } })],
        batch(0),
      );
      await client.metadata.refreshKeyspace(ownKeyspace);
      const table = await client.metadata.getTable(ownKeyspace, "events");
      expect(table?.partitionKeys.map((column) => column.name)).toEqual(["tenant"]);
      expect(table?.clusteringKeys.map((column) => column.name)).toEqual(["at", "kind"]);
      const result = await client.execute(`SELECT payload FROM ${ownKeyspace}.events`);
      expect(result.first()?.get("payload")).toEqual({ x: [1, 2] });
      // The next start finds the table it created, and finds it as declared.
      const again = createCassandraSink(registry, {
        contactPoints: CONTACT_POINTS,
        keyspace: ownKeyspace,
        table: "events",
        schema: {
          columns: {
            tenant: "varchar",
            at: "timestamp",
            kind: "text",
            payload: "Map<TEXT,frozen<list<int>>>",
          },
          partitionKey: ["tenant"],
          clusteringKey: ["at", "kind"],
        },
      });
      await again.connect(signal());
    } finally {
      await client.execute(`DROP KEYSPACE IF EXISTS ${ownKeyspace}`);
    }
  });

  it("refuses a declared schema that an existing table does not match, naming each difference", async () => {
    const table = await newTable(
      "sensor text, window_end timestamp, readings text, PRIMARY KEY (sensor, window_end)",
    );
    const sink = createCassandraSink(
      registry,
      sinkConfig(table, {
        schema: {
          columns: { sensor: "text", window_end: "timestamp", readings: "int", avg: "double" },
          partitionKey: ["sensor", "window_end"],
        },
      }),
    );
    const failure = await sink.connect(signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_CONNECTOR_REFUSED");
    expect(failure?.message).toContain(
      `The table "${keyspace}"."${table}" already exists and differs from the declared \`schema\`: ` +
        'column "readings" is text, declared int; column "avg" (declared double) is missing; ' +
        "the partition key is (sensor), declared (sensor, window_end); " +
        "the clustering key is (window_end), declared ()",
    );
    expect(failure?.message).toContain("make `schema` match the table");
    // Nothing was changed: the table is as it was.
    const columns = await client.execute(
      "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
      [keyspace, table],
    );
    expect(
      Object.fromEntries(columns.rows.map((row) => [row.get("column_name"), row.get("type")])),
    ).toEqual({ sensor: "text", window_end: "timestamp", readings: "text" });
  });

  it("names the record, batch and partition of a bad record", async () => {
    const table = await newTable("id int PRIMARY KEY, n int");
    const sink = createCassandraSink(registry, sinkConfig(table));
    await sink.connect(signal());
    const cases = [
      { records: [json({ id: 1 }), { value: encoder.encode("not json") }], says: "is not JSON" },
      { records: [json([1, 2])], says: "not an object (an array)" },
      { records: [json({ n: 1 })], says: 'no value for the primary key column "id"' },
      {
        records: [json({ id: 1, n: "many" })],
        says: 'was refused by Cassandra: column "n" (int, from field "n") cannot take "many": ',
      },
      { records: [json({ id: 1, missing: 2 })], says: "was refused by Cassandra" },
    ];
    const textKeyed = await newTable("sensor text PRIMARY KEY, n int");
    const textSink = createCassandraSink(registry, sinkConfig(textKeyed));
    await textSink.connect(signal());
    await expect(
      textSink.writeBatch([json({ sensor: "s1", n: 1 }), json({ sensor: "", n: 2 })], batch(7, 3)),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      recordIndex: 1,
      message: expect.stringContaining(
        'Record 1 of the batch at 1700000007000 (partition 3) has an empty value for the partition key column "sensor" (field "sensor")',
      ),
    });
    // Refused before anything of the batch was sent.
    expect(await rows(textKeyed)).toEqual([]);
    for (const { records, says } of cases) {
      await expect(sink.writeBatch(records, batch(7, 3))).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: expect.stringMatching(
          new RegExp(
            `^Record ${records.length - 1} of the batch at 1700000007000 \\(partition 3\\) .*${says.replace(/[()[\]]/g, "\\$&")}`,
          ),
        ),
      });
    }
  });

  it("retries an unavailable consistency level with backoff, then asks Sluice to back off", async () => {
    const table = await newTable("id int PRIMARY KEY");
    const sink = createCassandraSink(
      registry,
      sinkConfig(table, { consistency: "three", maxAttempts: 3, retryDelayMs: 10 }),
    );
    await sink.connect(signal());
    await expect(sink.writeBatch([json({ id: 1 })], batch(0))).rejects.toMatchObject({
      code: "SLUICE_BACKOFF",
      message: expect.stringContaining("after 3 attempts"),
    });
    expect(sink.metrics.retries).toBe(2);
    const strict = createCassandraSink(registry, sinkConfig(table, { consistency: "all" }));
    await strict.connect(signal());
    await strict.writeBatch([json({ id: 2 })], batch(0));
    expect((await rows(table)).map((row) => row.id)).toEqual([2]);
  });

  it("refuses a missing keyspace, a missing table or an unknown column, naming them", async () => {
    const missing = createCassandraSink(registry, sinkConfig("nowhere"));
    await expect(missing.connect(signal())).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining(`has no table "${keyspace}"."nowhere"`),
    });
    const noKeyspace = createCassandraSink(registry, {
      ...sinkConfig("t"),
      keyspace: keyspace.toUpperCase(),
    });
    await expect(noKeyspace.connect(signal())).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining(
        `has no keyspace "${keyspace.toUpperCase()}" (there is "${keyspace}": names are matched exactly`,
      ),
    });
    const table = await newTable("id int PRIMARY KEY");
    const unknown = createCassandraSink(
      registry,
      sinkConfig(table, { columns: { id: "id", extra: "x" } }),
    );
    await expect(unknown.connect(signal())).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining('has no column "extra"'),
    });
  });

  it("when a column it writes is dropped while it runs, fails naming the column once Sluice connects again", async () => {
    const table = await newTable("sensor text PRIMARY KEY, readings int, avg double");
    const sink = createCassandraSink(
      registry,
      sinkConfig(table, { columns: { sensor: "sensor", readings: "readings", avg: "avg" } }),
    );
    const session = new SinkSession(sink, {
      backoff: { initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
    });
    await session.write([json({ sensor: "s1", readings: 1, avg: 1.5 })], batch(0), signal());
    // A column added meanwhile changes nothing for the sink.
    await client.execute(`ALTER TABLE ${keyspace}.${table} ADD note text`);
    await session.write([json({ sensor: "s2", readings: 2, avg: 2.5 })], batch(1), signal());
    await client.execute(`ALTER TABLE ${keyspace}.${table} DROP avg`);
    await expect(
      session.write([json({ sensor: "s3", readings: 3, avg: 3.5 })], batch(2), signal()),
    ).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining(`The table "${keyspace}"."${table}" has no column "avg"`),
    });
    expect((await rows(table, "sensor")).map((row) => row.sensor).sort()).toEqual(["s1", "s2"]);
  });

  it("refuses, without retrying, a localDataCenter no node is in, naming the ones there are", async () => {
    const table = await newTable("id int PRIMARY KEY");
    const sink = createCassandraSink(registry, sinkConfig(table, { localDataCenter: "dc9" }));
    const session = new SinkSession(sink, {
      backoff: { initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
      maxAttempts: 3,
    });
    const failure = await session.write([json({ id: 1 })], batch(0), signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_CONNECTOR_REFUSED");
    expect(failure?.message).toContain('Set "localDataCenter" to one of: datacenter1');
    await expect(
      checkConnection({ contactPoints: CONTACT_POINTS, localDataCenter: "dc9" }),
    ).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining('"localDataCenter"'),
    });
  });

  it("names the address and what to check when no node answers", async () => {
    const closed = "127.0.0.1:19042";
    const sink = createCassandraSink(registry, { ...sinkConfig("t"), contactPoints: [closed] });
    const failure = await sink.connect(signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_NOT_CONNECTED");
    expect(failure?.message).toContain(`Cannot reach Cassandra at ${closed}`);
    expect(failure?.message).toContain(`Is Cassandra running at ${closed}?`);
    await expect(checkConnection({ contactPoints: [closed] })).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining(`Is Cassandra running at ${closed}?`),
    });
    const info = await checkConnection({ contactPoints: CONTACT_POINTS });
    expect(info.releaseVersion).toMatch(/^5\.0\./);
  });
});

describe("cassandraTable", () => {
  it("loads every page of a query as plain rows, with lookups by key", async () => {
    const table = await newTable(
      "region text, id bigint, name text, ref uuid, PRIMARY KEY (region, id)",
    );
    for (let id = 1; id <= 5; id++) {
      await client.execute(
        `INSERT INTO ${keyspace}.${table} (region, id, name, ref) VALUES (?, ?, ?, ?)`,
        [id % 2 === 0 ? "eu" : "us", id, `name-${id}`, `00000000-0000-4000-8000-00000000000${id}`],
        { prepare: true },
      );
    }
    const loaded = await cassandraTable(
      { contactPoints: CONTACT_POINTS },
      `SELECT region, id, name, ref FROM ${keyspace}.${table}`,
      { key: ["region", "id"], fetchSize: 2 },
    );
    expect(loaded.rows).toHaveLength(5);
    expect(loaded.get("eu", 4)).toEqual({
      region: "eu",
      id: 4,
      name: "name-4",
      ref: "00000000-0000-4000-8000-000000000004",
    });
    expect(loaded.get("us", 4)).toBeUndefined();
    const byId = await cassandraTable(
      client,
      `SELECT id, name FROM ${keyspace}.${table} WHERE region = ?`,
      {
        params: ["us"],
        key: "id",
      },
    );
    expect([...byId.byKey.keys()].sort()).toEqual(["1", "3", "5"]);
    expect(byId.get(3)?.name).toBe("name-3");
  });
});
