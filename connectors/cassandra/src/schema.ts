import { qualifiedTable, quoteName } from "./identifiers.js";
import type { TableSchema } from "./sink-config.js";

/**
 * `CREATE KEYSPACE IF NOT EXISTS` for a declared schema's replication; every name quoted.
 *
 * @example
 * createKeyspaceCql("shop", schema); // CREATE KEYSPACE IF NOT EXISTS "shop" WITH replication = {...}
 */
export function createKeyspaceCql(keyspace: string, schema: TableSchema): string {
  const { replication } = schema;
  const options =
    replication.class === "SimpleStrategy"
      ? `'class': 'SimpleStrategy', 'replication_factor': ${replication.replicationFactor}`
      : [
          "'class': 'NetworkTopologyStrategy'",
          // Data centre names passed the name pattern: no quote can end the string early.
          ...Object.entries(replication.dataCenters).map(
            ([centre, copies]) => `'${centre}': ${copies}`,
          ),
        ].join(", ");
  return `CREATE KEYSPACE IF NOT EXISTS ${quoteName(keyspace, "keyspace")} WITH replication = {${options}}`;
}

/**
 * `CREATE TABLE IF NOT EXISTS` for a declared schema; names quoted, types canonical.
 *
 * @example
 * createTableCql("shop", "totals", schema); // CREATE TABLE IF NOT EXISTS "shop"."totals" (...)
 */
export function createTableCql(keyspace: string, table: string, schema: TableSchema): string {
  const columns = Object.entries(schema.columns).map(
    ([name, type]) => `${quoteName(name, "column")} ${type}`,
  );
  const partition = `(${schema.partitionKey.map((name) => quoteName(name, "column")).join(", ")})`;
  const key = [partition, ...schema.clusteringKey.map((name) => quoteName(name, "column"))];
  return `CREATE TABLE IF NOT EXISTS ${qualifiedTable(keyspace, table)} (${columns.join(", ")}, PRIMARY KEY (${key.join(", ")}))`;
}

/**
 * The upsert of one row: `INSERT INTO "ks"."t" ("a", "b") VALUES (?, ?)`, with
 * `USING TIMESTAMP ?` when the sink sets write timestamps.
 *
 * @example
 * upsertCql("shop", "totals", ["word", "count"], true);
 */
export function upsertCql(
  keyspace: string,
  table: string,
  columns: readonly string[],
  withTimestamp: boolean,
): string {
  const names = columns.map((name) => quoteName(name, "column")).join(", ");
  const markers = columns.map(() => "?").join(", ");
  return `INSERT INTO ${qualifiedTable(keyspace, table)} (${names}) VALUES (${markers})${withTimestamp ? " USING TIMESTAMP ?" : ""}`;
}
