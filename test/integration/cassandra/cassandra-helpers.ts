// Shared bits of the Cassandra integration suites (scripts/services/start cassandra).
import { randomUUID } from "node:crypto";
import { Client } from "cassandra-driver";
import pino from "pino";
import { ConnectorRegistry } from "sluice/advanced";
import { CassandraSink, cassandraSink } from "../../../connectors/cassandra/src/index.js";

export const CASSANDRA_PORT = 9042;
export const CONTACT_POINT = `127.0.0.1:${CASSANDRA_PORT}`;
export const CONTACT_POINTS = [CONTACT_POINT];

/** A keyspace or table name no earlier run used (letters, digits, _; at most 48). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomUUID().replaceAll("-", "").slice(0, 10)}`.slice(
    0,
    48,
  );
}

/** Connects a driver client for the tests' own checks, failing with what to run when the node is not there. */
export async function connectClient(): Promise<Client> {
  const client = new Client({
    contactPoints: CONTACT_POINTS,
    localDataCenter: "datacenter1",
    socketOptions: { connectTimeout: 5_000, readTimeout: 30_000 },
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown();
    throw new Error(
      `cassandra is not answering on ${CONTACT_POINT} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start cassandra`,
      { cause: error },
    );
  }
  return client;
}

/** Creates a keyspace with one replica. */
export async function createKeyspace(client: Client, keyspace: string): Promise<void> {
  await client.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
}

/** A registry holding the Cassandra plugin, logging only when SLUICE_TEST_LOGS=1. */
export function cassandraRegistry(): ConnectorRegistry {
  const logger = pino({ level: process.env.SLUICE_TEST_LOGS === "1" ? "debug" : "silent" });
  return new ConnectorRegistry({ logger }).use(cassandraSink);
}

/** Creates a Cassandra sink through the registry (so its config is validated). */
export function createCassandraSink(
  registry: ConnectorRegistry,
  config: Record<string, unknown>,
): CassandraSink {
  const instance = registry.createSink("cassandra", config);
  if (!(instance.connector instanceof CassandraSink)) throw new Error("expected a CassandraSink");
  return instance.connector;
}
