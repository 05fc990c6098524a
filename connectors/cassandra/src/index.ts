import { defineSink } from "sluice/connector";
import { CassandraSink } from "./cassandra-sink.js";
import { cassandraSinkConfig } from "./sink-config.js";

/**
 * The Cassandra sink plugin: `stream.sink("cassandra", { contactPoints, keyspace, table })`.
 * Idempotent: a replayed batch upserts the same rows with the same timestamps.
 *
 * @example
 * ctx.use(cassandraSink);
 * counts.map(([word, count]) => JSON.stringify({ word, count })).sink("cassandra", {
 *   contactPoints: ["127.0.0.1:9042"], keyspace: "shop", table: "word_counts",
 * });
 */
export const cassandraSink = defineSink({
  name: "cassandra",
  version: "0.1.0",
  description: "Upserts each record as a row of a Cassandra table (prepared statements, retries).",
  config: cassandraSinkConfig,
  capabilities: { idempotent: true },
  create: (config, context) => new CassandraSink(config, context.logger),
});

/** The plugins, for `ctx.use(...plugins)` and for `plugins: ["@sluice/cassandra"]`. */
export const plugins = [cassandraSink];

export default plugins;
export { CassandraSink, type CassandraSinkMetrics } from "./cassandra-sink.js";
export {
  CassandraTable,
  type CassandraTableOptions,
  cassandraTable,
  type TableRow,
} from "./cassandra-table.js";
export { type CassandraConnectionInfo, checkConnection } from "./check-connection.js";
export {
  type CassandraClientConfig,
  type CassandraClientConfigInput,
  cassandraClientConfig,
  cassandraTlsOptions,
} from "./client-config.js";
export { canonicalCqlType } from "./cql-types.js";
export { qualifiedTable, quoteName } from "./identifiers.js";
export {
  type CassandraSinkConfig,
  cassandraSinkConfig,
  type MapRecord,
  type RecordPosition,
  type Row,
  type TableSchema,
} from "./sink-config.js";
