import { type Client, errors, type metadata, types } from "cassandra-driver";
import type { Logger } from "pino";
import {
  abortable,
  BackoffError,
  closeQuietly,
  type Delay,
  NotConnectedError,
  realDelay,
  type Sink,
  type SinkRecord,
  SluiceError,
  type WriteBatchContext,
  warnAboutTls,
} from "sluice/connector";
import {
  createCassandraClient,
  isClientTimeout,
  isInvalidData,
  isRetriable,
  isUnreachable,
  reasonOf,
  serverReply,
  tableGone,
  unreachableMessage,
} from "./cassandra-client.js";
import { columnRefusal } from "./column-refusal.js";
import { connectRefusal } from "./connect-refusal.js";
import { FirstPositions } from "./first-positions.js";
import { type ContactPointProbe, probeNativeProtocol } from "./native-protocol-probe.js";
import { openClient } from "./open-client.js";
import { type ColumnSource, columnsOfRow, invalidRecord, rowOf, valueAt } from "./row-mapping.js";
import { createKeyspaceCql, createTableCql, upsertCql } from "./schema.js";
import { type ExistingColumn, schemaDifferences } from "./schema-check.js";
import type { CassandraSinkConfig, RecordPosition, TableSchema } from "./sink-config.js";

/**
 * The Cassandra sink's counters, read with `sink.metrics` (a snapshot).
 *
 * @example
 * const { recordsOut, retries } = sink.metrics;
 */
export interface CassandraSinkMetrics {
  /** Rows written (a replayed batch counts again). */
  readonly recordsOut: number;
  /** Bytes of the records' values written. */
  readonly bytesOut: number;
  /** `writeBatch` calls that succeeded. */
  readonly writes: number;
  /** Statements tried again after a timeout or an unavailable or unreachable node. */
  readonly retries: number;
  /** `writeBatch` calls that failed. */
  readonly errors: number;
}

type Counters = { -readonly [K in keyof CassandraSinkMetrics]: number };

/** One row ready to write. */
interface Statement {
  readonly position: RecordPosition;
  readonly cql: string;
  readonly params: unknown[];
  /** Where each bound value came from, to name the column Cassandra or the driver refuses. */
  readonly columns: readonly ColumnSource[];
}

const CLOSE_TIMEOUT_MS = 10_000;
const CONSISTENCY: Record<CassandraSinkConfig["consistency"], number> = {
  any: types.consistencies.any,
  one: types.consistencies.one,
  two: types.consistencies.two,
  three: types.consistencies.three,
  quorum: types.consistencies.quorum,
  all: types.consistencies.all,
  local_quorum: types.consistencies.localQuorum,
  each_quorum: types.consistencies.eachQuorum,
  local_one: types.consistencies.localOne,
};

/**
 * Writes each record as one row, upserted with a prepared `INSERT` (Cassandra's INSERT
 * overwrites the row with the same primary key). Rows come from the record's value decoded as
 * a JSON object, or from `mapRecord`. Writes of a batch run with bounded concurrency; timeouts
 * and unavailable or unreachable nodes are retried with exponential backoff.
 *
 * Idempotent: with `writeTimestamp: "batch"` (the default) record i of the batch at time t is
 * written with timestamp t·1000+i µs, so writing a batch again leaves the table as it was, and
 * a replay of an older batch never overwrites what a newer batch wrote.
 *
 * @example
 * const sink = new CassandraSink(config, logger);
 * await sink.connect(signal);
 * await sink.writeBatch([{ value: encode('{"word":"a","count":2}') }], context);
 */
export class CassandraSink implements Sink {
  readonly #config: CassandraSinkConfig;
  readonly #logger: Logger;
  readonly #delay: Delay;
  readonly #createClient: (config: CassandraSinkConfig) => Client;
  readonly #probe: ContactPointProbe;
  readonly #counters: Counters = { recordsOut: 0, bytesOut: 0, writes: 0, retries: 0, errors: 0 };
  readonly #statements = new Map<string, string>();
  #client: Client | undefined;
  #healthy = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  // Ends retry waits when the sink closes, so close() never waits out a backoff.
  readonly #closeController = new AbortController();
  #writing: Promise<unknown> = Promise.resolve();
  #keyColumns: readonly string[] = [];
  readonly #firstPositions = new FirstPositions();
  #partitionKey: readonly string[] = [];
  /** The table's column types, to find the value the driver could not encode. */
  #columnTypes = new Map<string, metadata.DataTypeInfo>();
  readonly #configured: readonly ColumnSource[] | undefined;

  /**
   * @param options.delay the wait between retries (tests pass one that records the delays).
   * @param options.createClient builds the driver client (tests pass a fake).
   * @param options.probe asks each contact point what it speaks before connecting (tests pass a fake).
   */
  constructor(
    config: CassandraSinkConfig,
    logger: Logger,
    options: {
      delay?: Delay;
      createClient?: (config: CassandraSinkConfig) => Client;
      probe?: ContactPointProbe;
    } = {},
  ) {
    this.#config = config;
    this.#logger = logger;
    this.#delay = options.delay ?? realDelay;
    this.#createClient = options.createClient ?? createCassandraClient;
    this.#probe = options.probe ?? probeNativeProtocol;
    warnAboutTls(config.tls, logger, "Cassandra sink");
    const columns =
      config.columns ??
      (config.schema === undefined
        ? undefined
        : Object.fromEntries(Object.keys(config.schema.columns).map((name) => [name, name])));
    this.#configured =
      columns === undefined
        ? undefined
        : Object.entries(columns).map(([column, path]) => ({ column, path: path.split(".") }));
  }

  /** A snapshot of the counters. */
  get metrics(): CassandraSinkMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#client !== undefined && this.#healthy) return;
    signal.throwIfAborted();
    await this.#dropClient();
    const client = this.#createClient(this.#config);
    try {
      await abortable(
        openClient(
          client,
          this.#config,
          `the sink of ${this.#config.keyspace}.${this.#config.table}`,
          { signal, probe: this.#probe },
        ),
        signal,
      );
      await abortable(this.#prepareTable(client), signal);
    } catch (error) {
      await closeQuietly(() => client.shutdown(), CLOSE_TIMEOUT_MS);
      if (signal.aborted) throw signal.reason;
      throw this.#connectFailure(error);
    }
    this.#client = client;
    this.#healthy = true;
    this.#logger.info(
      { keyspace: this.#config.keyspace, table: this.#config.table },
      "Cassandra sink connected",
    );
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#assertOpen();
    const writing = this.#write(records, context);
    this.#writing = writing.catch(() => undefined);
    return writing;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#closeController.abort(new Error("the Cassandra sink was closed"));
      // A write in progress finishes (or fails) first.
      await this.#writing;
      await this.#dropClient();
    })();
    return this.#closing;
  }

  async #write(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    const client = this.#client;
    if (client === undefined || !this.#healthy) {
      throw new NotConnectedError("the Cassandra sink is not connected; call connect() first");
    }
    try {
      const first = this.#firstPositions.of(records, context);
      const statements = records.map((record, index) =>
        this.#statement(
          record,
          { batchTime: context.batchTime, partition: context.partition, index },
          first[index] ?? index,
        ),
      );
      await this.#executeAll(client, statements, context.retriesEnd);
    } catch (error) {
      this.#counters.errors++;
      throw error;
    }
    this.#counters.writes++;
    this.#counters.recordsOut += records.length;
    for (const record of records) this.#counters.bytesOut += record.value.byteLength;
  }

  // `firstIndex`: the record's index in the first write of its batch, for its write timestamp.
  #statement(record: SinkRecord, position: RecordPosition, firstIndex: number): Statement {
    const row = rowOf(record, position, this.#config.mapRecord);
    const columns = this.#configured ?? columnsOfRow(row, position);
    const values = columns.map(({ path }) => valueAt(row, path));
    for (const key of this.#keyColumns) {
      const index = columns.findIndex(({ column }) => column === key);
      const value = index === -1 ? undefined : values[index];
      if (value === undefined || value === null) {
        const source = columns[index];
        throw invalidRecord(
          position,
          `has no value for the primary key column "${key}"${source === undefined ? "" : ` (field "${source.path.join(".")}")`}; every row needs its whole primary key.`,
        );
      }
    }
    // Cassandra refuses an empty partition key of one column ("Key may not be empty") only once
    // it is sent, and without naming it.
    const [onlyPartitionKey, ...more] = this.#partitionKey;
    if (onlyPartitionKey !== undefined && more.length === 0) {
      const index = columns.findIndex(({ column }) => column === onlyPartitionKey);
      const value = values[index];
      if (value === "" || (value instanceof Uint8Array && value.byteLength === 0)) {
        throw invalidRecord(
          position,
          `has an empty value for the partition key column "${onlyPartitionKey}" (field "${columns[index]?.path.join(".") ?? onlyPartitionKey}"); Cassandra refuses an empty partition key: give the field a value.`,
        );
      }
    }
    const batchTimestamp = this.#config.writeTimestamp === "batch";
    const names = columns.map(({ column }) => column);
    const signature = `${names.join(",")}|${batchTimestamp}`;
    let cql = this.#statements.get(signature);
    if (cql === undefined) {
      cql = upsertCql(this.#config.keyspace, this.#config.table, names, batchTimestamp);
      this.#statements.set(signature, cql);
    }
    const params = batchTimestamp
      ? [...values, types.Long.fromNumber(position.batchTime * 1_000 + firstIndex)]
      : values;
    return { position, cql, params, columns };
  }

  // Runs the statements with at most `concurrency` in flight; after the first failure no new
  // one starts, the ones in flight finish, and that failure is thrown.
  async #executeAll(
    client: Client,
    statements: readonly Statement[],
    retriesEnd: AbortSignal | undefined,
  ): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < statements.length) {
        const statement = statements[next++] as Statement;
        try {
          await this.#execute(client, statement, retriesEnd);
        } catch (error) {
          failure ??= this.#writeFailure(error, statement);
        }
      }
    };
    const workers = Math.min(this.#config.concurrency, statements.length);
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure !== undefined) throw failure;
  }

  async #execute(
    client: Client,
    { cql, params }: Statement,
    retriesEnd: AbortSignal | undefined,
  ): Promise<void> {
    const { maxAttempts, retryDelayMs, maxRetryDelayMs, consistency } = this.#config;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.execute(cql, params, {
          prepare: true,
          consistency: CONSISTENCY[consistency],
          isIdempotent: true,
        });
        return;
      } catch (error) {
        // No answer within requestTimeoutMs: the connection counts as lost at once, so a node
        // that took the connection and went silent costs one timeout, not maxAttempts of them.
        if (isClientTimeout(error) || !isRetriable(error) || attempt >= maxAttempts) throw error;
        // A stop without draining: no more attempts, and no wait for one.
        if (retriesEnd?.aborted === true) throw error;
        this.#counters.retries++;
        const wait = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempt - 1));
        this.#logger.debug(
          { err: error, attempt, retryInMs: wait },
          "Cassandra write failed; retrying",
        );
        const closed = this.#closeController.signal;
        await this.#delay(
          wait,
          retriesEnd === undefined ? closed : AbortSignal.any([closed, retriesEnd]),
        );
      }
    }
  }

  #writeFailure(error: unknown, { position, params, columns }: Statement): Error {
    const { contactPoints, keyspace, table, maxAttempts } = this.#config;
    if (error instanceof SluiceError) return error;
    if (tableGone(error)) {
      // Not the record's fault: connecting again checks the table and names what is missing.
      this.#healthy = false;
      return new NotConnectedError(
        `Cassandra refused writing to ${keyspace}.${table}: ${reasonOf(error)}. The table or keyspace was probably dropped since the sink connected; the sink connects again and checks it.`,
        { cause: error },
      );
    }
    if (isInvalidData(error)) {
      // The driver's own message does not say which value it could not encode.
      const refusal =
        serverReply(error) instanceof TypeError
          ? columnRefusal(columns, params, this.#columnTypes)
          : undefined;
      return invalidRecord(
        position,
        `was refused by Cassandra: ${refusal ?? reasonOf(error)}. Fix the field in the record, or convert it before the sink (map, or the sink's mapRecord).`,
        error,
      );
    }
    if (isUnreachable(error)) {
      this.#healthy = false;
      const message = unreachableMessage(this.#config, error);
      return new NotConnectedError(
        isClientTimeout(error)
          ? `Writing record ${position.index} of the batch at ${position.batchTime} to ${keyspace}.${table}: ${message}`
          : message,
        { cause: error },
      );
    }
    const reply = serverReply(error);
    if (
      reply instanceof errors.ResponseError &&
      reply.code === types.responseErrorCodes.unprepared
    ) {
      // Cassandra drops the prepared statements of a table whose columns were dropped or that
      // was dropped, and the driver could not prepare the INSERT again. Connecting again checks
      // the table: it refuses naming what is missing, or prepares afresh if nothing is.
      this.#healthy = false;
      return new NotConnectedError(
        `Cassandra no longer has the sink's statement for ${keyspace}.${table} (${reasonOf(error)}); the table, or a column the sink writes, was probably dropped or changed since the sink connected. The sink connects again and checks the table.`,
        { cause: error },
      );
    }
    if (isRetriable(error)) {
      return new BackoffError(
        `Cassandra at ${contactPoints.join(", ")} could not take record ${position.index} of the batch at ${position.batchTime} after ${maxAttempts} attempts (${reasonOf(error)}); the batch is written again later (upserts are idempotent).`,
        { cause: error },
      );
    }
    if (
      reply instanceof errors.ResponseError &&
      reply.code === types.responseErrorCodes.unauthorized
    ) {
      return new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `Cassandra refused writing to ${keyspace}.${table}: ${reasonOf(error)}. Grant MODIFY on the table to the sink's role.`,
        { cause: error },
      );
    }
    return new SluiceError(
      "SLUICE_CONNECTOR_IO",
      `Writing record ${position.index} of the batch at ${position.batchTime} (partition ${position.partition}) to ${keyspace}.${table} failed: ${reasonOf(error)}`,
      { cause: error },
    );
  }

  // Creates the table when a schema is declared, then checks that it exists and has the
  // mapped columns, and learns its primary key.
  async #prepareTable(client: Client): Promise<void> {
    const { keyspace, table, schema, contactPoints } = this.#config;
    if (schema !== undefined) {
      if (schema.createKeyspace) await client.execute(createKeyspaceCql(keyspace, schema));
      await client.execute(createTableCql(keyspace, table, schema));
    }
    // Another client may have just created them: read the keyspace afresh.
    await client.metadata.refreshKeyspace(keyspace).catch(() => undefined);
    const metadata = await client.metadata.getTable(keyspace, table);
    if (metadata === null || metadata === undefined) {
      const keyspaces = Object.keys(client.metadata.keyspaces ?? {});
      if (!keyspaces.includes(keyspace)) {
        // Unquoted CQL folds names to lower case: "IoT" created without quotes is "iot".
        const other = keyspaces.find((name) => name.toLowerCase() === keyspace.toLowerCase());
        throw new SluiceError(
          "SLUICE_CONNECTOR_REFUSED",
          `Cassandra at ${contactPoints.join(", ")} has no keyspace "${keyspace}"${other === undefined ? "" : ` (there is "${other}": names are matched exactly, case included)`}. Set "keyspace" to an existing one, create it, or declare \`schema\` so the sink creates both keyspace and table.`,
        );
      }
      throw new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `Cassandra at ${contactPoints.join(", ")} has no table "${keyspace}"."${table}" (names are matched exactly, case included). Create it, or declare \`schema\` so the sink creates it.`,
      );
    }
    if (schema !== undefined) await this.#checkDeclaredSchema(client, schema);
    const known = new Set(metadata.columns.map((column) => column.name));
    const unknown = (this.#configured ?? []).filter(({ column }) => !known.has(column));
    if (unknown.length > 0) {
      throw new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `The table "${keyspace}"."${table}" has no column ${unknown.map(({ column }) => `"${column}"`).join(", ")}; its columns are ${[...known].join(", ")}. Fix \`columns\` (or the schema).`,
      );
    }
    this.#columnTypes = new Map(metadata.columns.map((column) => [column.name, column.type]));
    this.#partitionKey = metadata.partitionKeys.map((column) => column.name);
    this.#keyColumns = [...metadata.partitionKeys, ...metadata.clusteringKeys].map(
      (column) => column.name,
    );
  }

  // An existing table is left as it is by CREATE TABLE IF NOT EXISTS: one that differs from the
  // declared schema would otherwise make every record look invalid.
  async #checkDeclaredSchema(client: Client, schema: TableSchema): Promise<void> {
    const { keyspace, table } = this.#config;
    const result = await client.execute(
      "SELECT column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
      [keyspace, table],
      { prepare: true },
    );
    const existing: ExistingColumn[] = result.rows.map((row) => ({
      name: String(row.get("column_name")),
      kind: String(row.get("kind")),
      position: Number(row.get("position")),
      type: String(row.get("type")),
    }));
    const differences = schemaDifferences(schema, existing);
    if (differences.length === 0) return;
    throw new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `The table "${keyspace}"."${table}" already exists and differs from the declared \`schema\`: ${differences.join("; ")}. The sink creates a table only when it is missing and never alters one: make \`schema\` match the table, or change the table (ALTER TABLE) or write to a new one.`,
    );
  }

  #connectFailure(error: unknown): Error {
    if (error instanceof SluiceError) return error;
    const { contactPoints, keyspace, table } = this.#config;
    const refusal = connectRefusal(error, contactPoints, `the sink of ${keyspace}.${table}`);
    if (refusal !== undefined) return refusal;
    if (isUnreachable(error)) {
      return new NotConnectedError(unreachableMessage(this.#config, error), { cause: error });
    }
    return new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `Cassandra at ${contactPoints.join(", ")} refused the sink: ${reasonOf(error)}. Check localDataCenter, the credentials and tls settings, and the keyspace and table.`,
      { cause: error },
    );
  }

  async #dropClient(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#healthy = false;
    if (client !== undefined) await closeQuietly(() => client.shutdown(), CLOSE_TIMEOUT_MS);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the Cassandra sink was closed");
    }
  }
}
