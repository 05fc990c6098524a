// Creates a keyspace and a table, inserts and selects a row on the local Cassandra node
// (scripts/services/start cassandra).
import { randomUUID } from "node:crypto";
import { Client, types } from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT_MS, serverMissing, uniqueName } from "./helpers.js";

const CONTACT_POINT = "127.0.0.1:9042";

describe("cassandra smoke", () => {
  it(
    "creates a keyspace and a table, inserts a row and reads it back",
    async () => {
      // Keyspace names: at most 48 characters of [a-z0-9_].
      const keyspace = uniqueName("smoke", "_").slice(0, 48);
      const client = new Client({
        contactPoints: [CONTACT_POINT],
        localDataCenter: "datacenter1",
        socketOptions: { connectTimeout: 5_000, readTimeout: 30_000 },
      });
      try {
        await client.connect();
      } catch (err) {
        await client.shutdown();
        throw serverMissing("cassandra", CONTACT_POINT, err);
      }
      try {
        const version = await client.execute("SELECT release_version FROM system.local");
        expect(String(version.first()?.get("release_version"))).toMatch(/^5\.0\./);

        await client.execute(
          `CREATE KEYSPACE ${keyspace} WITH replication = ` +
            `{'class': 'SimpleStrategy', 'replication_factor': 1}`,
        );
        await client.execute(
          `CREATE TABLE ${keyspace}.events (id uuid PRIMARY KEY, body text, seq bigint)`,
        );

        const id = types.Uuid.fromString(randomUUID());
        const body = `hello ${keyspace}`;
        await client.execute(
          `INSERT INTO ${keyspace}.events (id, body, seq) VALUES (?, ?, ?)`,
          [id, body, types.Long.fromNumber(42)],
          { prepare: true },
        );
        const result = await client.execute(
          `SELECT id, body, seq FROM ${keyspace}.events WHERE id = ?`,
          [id],
          { prepare: true },
        );
        expect(result.rowLength).toBe(1);
        const row = result.first();
        expect(String(row?.get("id"))).toBe(id.toString());
        expect(row?.get("body")).toBe(body);
        expect(String(row?.get("seq"))).toBe("42");
      } finally {
        await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
        await client.shutdown();
      }
    },
    SMOKE_TIMEOUT_MS,
  );
});
