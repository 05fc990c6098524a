import { type SinkRecord, timerMs } from "sluice/connector";
import { z } from "zod";
import { cassandraClientFields } from "./client-config.js";
import { cqlType } from "./cql-types.js";
import { cqlColumn, cqlName } from "./identifiers.js";

/** Where a record sits in the batch being written. */
export interface RecordPosition {
  readonly batchTime: number;
  readonly partition: number;
  /** The record's index in the `writeBatch` call. */
  readonly index: number;
}

/** A row as column (or field) names to values the driver can encode. */
export type Row = Readonly<Record<string, unknown>>;

/**
 * Turns a record into a row; used instead of decoding the value as a JSON object.
 *
 * @example
 * const mapRecord: MapRecord = (record) => ({ word: text(record.key), count: Number(text(record.value)) });
 */
export type MapRecord = (record: SinkRecord, position: RecordPosition) => Row;

const replication = z.discriminatedUnion("class", [
  z.strictObject({
    class: z.literal("SimpleStrategy"),
    replicationFactor: z.int().min(1).default(1).describe("copies of each row"),
  }),
  z.strictObject({
    class: z.literal("NetworkTopologyStrategy"),
    dataCenters: z
      .record(cqlName, z.int().min(1))
      .refine((centres) => Object.keys(centres).length > 0, "name at least one data centre")
      .describe("copies of each row per data centre"),
  }),
]);

/** A table the sink creates when it is missing (CREATE ... IF NOT EXISTS). */
export const tableSchema = z
  .strictObject({
    columns: z
      .record(cqlColumn, cqlType)
      .refine((columns) => Object.keys(columns).length > 0, "declare at least one column")
      .describe('column names to CQL types, e.g. { "word": "text", "count": "bigint" }'),
    partitionKey: z.array(cqlColumn).min(1).describe("the partition key columns, in order"),
    clusteringKey: z.array(cqlColumn).default([]).describe("the clustering columns, in order"),
    createKeyspace: z
      .boolean()
      .default(true)
      .describe("also create the keyspace when it is missing"),
    replication: replication
      .default({ class: "SimpleStrategy", replicationFactor: 1 })
      .describe("the replication of a keyspace the sink creates"),
  })
  .superRefine((schema, ctx) => {
    for (const [field, names] of [
      ["partitionKey", schema.partitionKey],
      ["clusteringKey", schema.clusteringKey],
    ] as const) {
      names.forEach((name, index) => {
        if (!(name in schema.columns)) {
          ctx.addIssue({
            code: "custom",
            path: [field, index],
            message: `"${name}" is not one of the declared columns`,
          });
        }
      });
    }
  });

/** The Cassandra sink's config. */
export const cassandraSinkConfig = z
  .strictObject({
    ...cassandraClientFields,
    keyspace: cqlName.describe("the keyspace of the table"),
    table: cqlName.describe("the table every record is upserted into"),
    columns: z
      .record(
        cqlColumn,
        z.string().regex(/^[^.]+(\.[^.]+)*$/, 'must be a field path like "user.id"'),
      )
      .optional()
      .describe(
        'column names to field paths in the row ("user.id" reads a nested field); default: the declared schema\'s columns, else every field of the row',
      ),
    mapRecord: z
      .custom<MapRecord>(
        (value) => typeof value === "function",
        "must be a function (record, position) => row",
      )
      .optional()
      .describe("turns a record into a row instead of decoding its value as a JSON object"),
    schema: tableSchema.optional().describe("create the table (and keyspace) when missing"),
    consistency: z
      .enum([
        "any",
        "one",
        "two",
        "three",
        "quorum",
        "all",
        "local_quorum",
        "each_quorum",
        "local_one",
      ])
      .default("local_quorum")
      .describe("the consistency level of the writes"),
    concurrency: z
      .int()
      .min(1)
      .max(1_024)
      .default(32)
      .describe("writes in flight at once within a batch"),
    maxAttempts: z
      .int()
      .min(1)
      .default(5)
      .describe("tries per write on timeouts and unavailable or unreachable nodes"),
    retryDelayMs: timerMs(0)
      .default(100)
      .describe("the wait before the first retry; it doubles each time"),
    maxRetryDelayMs: timerMs(0).default(5_000).describe("the longest wait between retries"),
    writeTimestamp: z
      .enum(["batch", "server"])
      .default("batch")
      .describe(
        "batch: write record i of the batch at time t with timestamp t*1000+i µs, so a replayed older batch never overwrites a newer one; server: the coordinator's clock",
      ),
  })
  .superRefine((config, ctx) => {
    if (config.schema === undefined || config.columns === undefined) return;
    for (const column of Object.keys(config.columns)) {
      if (!(column in config.schema.columns)) {
        ctx.addIssue({
          code: "custom",
          path: ["columns", column],
          message: `"${column}" is not a column of the declared schema`,
        });
      }
    }
  });

/** The parsed config the sink receives. */
export type CassandraSinkConfig = z.output<typeof cassandraSinkConfig>;

/** A declared table schema, parsed. */
export type TableSchema = z.output<typeof tableSchema>;
