// The SDK's sink conformance kit against the local Cassandra node (scripts/services/start cassandra).
import type { Client } from "cassandra-driver";
import type { SinkRecord } from "sluice";
import { describeSinkConformance } from "sluice/testing/conformance";
import { afterAll, beforeAll } from "vitest";
import { cassandraSink, type RecordPosition } from "../../../connectors/cassandra/src/index.js";
import { dropConnections, lockService } from "../kafka/services.js";
import {
  CASSANDRA_PORT,
  CONTACT_POINTS,
  connectClient,
  createKeyspace,
  uniqueName,
} from "./cassandra-helpers.js";

let client: Client;
let unlock: () => Promise<void>;
const keyspace = uniqueName("conformance");
const decoder = new TextDecoder();
const encoder = new TextEncoder();
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

// The kit's values are plain text, not JSON: a mapRecord keeps each value with its place in
// the batch, so the read-back can be ordered the way the kit expects.
const mapRecord = (record: SinkRecord, position: RecordPosition) => ({
  value: decoder.decode(record.value),
  batch_time: position.batchTime,
  part: position.partition,
  idx: position.index,
});

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < a.length; index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

describeSinkConformance(
  "cassandra sink",
  async () => {
    const table = `written_${++tables}`;
    await client.execute(
      `CREATE TABLE ${keyspace}.${table} (value text PRIMARY KEY, batch_time bigint, part int, idx int)`,
    );
    return {
      plugin: cassandraSink,
      config: {
        contactPoints: CONTACT_POINTS,
        keyspace,
        table,
        mapRecord,
        // The node asks for no authentication; the password is there to prove it is never shown.
        credentials: { username: "sluice", password: "cassandra-secret-789" },
      },
      secretValues: ["cassandra-secret-789"],
      readBack: async () => {
        const result = await client.execute(
          `SELECT value, batch_time, part, idx FROM ${keyspace}.${table}`,
        );
        return result.rows
          .map((row) => ({
            value: String(row.get("value")),
            order: [row.get("batch_time"), row.get("part"), row.get("idx")].map(Number),
          }))
          .sort((a, b) => compareOrder(a.order, b.order))
          .map((row) => encoder.encode(row.value));
      },
      // The driver reconnects on its own: the count of connections killed is the evidence.
      dropConnections: async () => dropConnections(CASSANDRA_PORT),
    };
  },
  {
    invalidConfig: {
      config: {
        contactPoints: [],
        keyspace: "no-dashes",
        table: "t",
        credentials: { username: "sluice", password: "cassandra-secret-789" },
      },
      paths: ["contactPoints", "keyspace"],
      secrets: ["cassandra-secret-789"],
    },
  },
);
