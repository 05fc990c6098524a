import { Client, types } from "cassandra-driver";
import { closeQuietly, NotConnectedError, SluiceError, validateConfig } from "sluice/connector";
import {
  createCassandraClient,
  isUnreachable,
  reasonOf,
  unreachableMessage,
} from "./cassandra-client.js";
import { type CassandraClientConfigInput, cassandraClientConfig } from "./client-config.js";
import { connectRefusal } from "./connect-refusal.js";
import { openClient } from "./open-client.js";

/** A row of a loaded table: column names to plain JavaScript values. */
export type TableRow = Readonly<Record<string, unknown>>;

/** How `cassandraTable` loads. */
export interface CassandraTableOptions {
  /** Values for the query's `?` markers. */
  readonly params?: readonly unknown[];
  /** The column(s) `get` and `byKey` look rows up by. */
  readonly key?: string | readonly string[];
  /** Rows fetched per page (all pages are read); default 5000. */
  readonly fetchSize?: number;
}

/**
 * A table loaded into memory for stream–static joins: every row, and a map by key.
 *
 * @example
 * const users = await cassandraTable(config, "SELECT id, name FROM shop.users", { key: "id" });
 * const named = orders.map((order) => ({ ...order, user: users.get(order.userId)?.name }));
 */
export class CassandraTable {
  readonly rows: readonly TableRow[];
  /** Rows by `keyOf(...)` of their key columns; empty when no key was given. */
  readonly byKey: ReadonlyMap<string, TableRow>;
  readonly #key: readonly string[];

  constructor(rows: readonly TableRow[], key: readonly string[]) {
    this.rows = rows;
    this.#key = key;
    const byKey = new Map<string, TableRow>();
    if (key.length > 0)
      for (const row of rows) byKey.set(keyOf(key.map((column) => row[column])), row);
    this.byKey = byKey;
  }

  /**
   * The row whose key column(s) equal `values` (compared as `String(value)`), if any.
   *
   * @example
   * users.get(42); users.get("eu", 7); // a two-column key
   */
  get(...values: readonly unknown[]): TableRow | undefined {
    if (this.#key.length === 0) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        'this table was loaded without a key; pass { key: "column" } to cassandraTable to look rows up',
      );
    }
    return this.byKey.get(keyOf(values));
  }
}

/**
 * Runs `query` (every page) and returns its rows as plain values (bigint and counter as
 * number, or bigint beyond 2^53; uuid, timeuuid, inet, decimal, varint, date and time as
 * strings), for a `transform` to join a stream against. Given a config, it connects, loads and
 * disconnects; given a connected driver `Client`, it uses it.
 *
 * @example
 * const prices = await cassandraTable(
 *   { contactPoints: ["127.0.0.1:9042"] },
 *   "SELECT sku, price FROM shop.prices",
 *   { key: "sku" },
 * );
 * const priced = orders.transform((batch) => batch.map((o) => ({ ...o, price: prices.get(o.sku)?.price })));
 */
export async function cassandraTable(
  source: Client | CassandraClientConfigInput,
  query: string,
  options: CassandraTableOptions = {},
): Promise<CassandraTable> {
  const key = typeof options.key === "string" ? [options.key] : [...(options.key ?? [])];
  if (source instanceof Client) return new CassandraTable(await load(source, query, options), key);
  const config = validateConfig(cassandraClientConfig, source, "Cassandra connection");
  const client = createCassandraClient(config);
  try {
    await openClient(client, config, "the table load");
    return new CassandraTable(await load(client, query, options), key);
  } catch (error) {
    const refusal = connectRefusal(error, config.contactPoints, "the table load");
    if (refusal !== undefined) throw refusal;
    if (isUnreachable(error)) {
      throw new NotConnectedError(unreachableMessage(config, error), {
        cause: error,
      });
    }
    if (error instanceof SluiceError) throw error;
    throw new SluiceError(
      "SLUICE_CONNECTOR_IO",
      `Loading ${JSON.stringify(query)} from Cassandra at ${config.contactPoints.join(", ")} failed: ${reasonOf(error)}`,
      { cause: error },
    );
  } finally {
    await closeQuietly(() => client.shutdown(), 10_000);
  }
}

async function load(
  client: Client,
  query: string,
  options: CassandraTableOptions,
): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  let pageState: string | undefined;
  do {
    const result = await client.execute(query, options.params ? [...options.params] : [], {
      prepare: true,
      fetchSize: options.fetchSize ?? 5_000,
      ...(pageState === undefined ? {} : { pageState }),
    });
    for (const row of result.rows) {
      const plainRow: Record<string, unknown> = {};
      for (const name of row.keys()) plainRow[name] = plain(row.get(name));
      rows.push(plainRow);
    }
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
  return rows;
}

/** A driver value as a plain JavaScript value. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof types.Long) {
    const number = value.toNumber();
    return Number.isSafeInteger(number) ? number : BigInt(value.toString());
  }
  if (
    value instanceof types.Uuid ||
    value instanceof types.InetAddress ||
    value instanceof types.LocalDate ||
    value instanceof types.LocalTime ||
    value instanceof types.BigDecimal ||
    value instanceof types.Integer ||
    value instanceof types.Duration
  ) {
    return value.toString();
  }
  if (value instanceof types.Tuple) return value.values().map(plain);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [plain(k), plain(v)]));
  if (value instanceof Set) return new Set([...value].map(plain));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function keyOf(values: readonly unknown[]): string {
  return values.length === 1
    ? String(values[0])
    : JSON.stringify(values.map((value) => String(value)));
}
