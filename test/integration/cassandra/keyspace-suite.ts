// What most Cassandra test files set up the same way: the node locked for the file, a client
// connected, a keyspace of the file's own (with the tables `tables` asks for) created first and
// dropped after its tests.
import type { Client } from "cassandra-driver";
import { afterAll, beforeAll } from "vitest";
import { lockService } from "../kafka/services.js";
import { connectClient, createKeyspace, uniqueName } from "./cassandra-helpers.js";

/** The file's client (valid inside its tests) and keyspace. */
export interface KeyspaceSuite {
  readonly client: Client;
  readonly keyspace: string;
}

/**
 * Registers the file's hooks: Cassandra locked, a client connected, a keyspace named after
 * `prefix` created with the tables `tables` gives (`CREATE TABLE` statements without the
 * keyspace: `t (id int PRIMARY KEY)`); the keyspace dropped and all undone after its tests.
 *
 * @example
 * const suite = keyspaceSuite("silent", ["readings (id int PRIMARY KEY, n int)"]);
 */
export function keyspaceSuite(prefix: string, tables: readonly string[] = []): KeyspaceSuite {
  const keyspace = uniqueName(prefix);
  let client: Client | undefined;
  let unlock: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    unlock = await lockService("cassandra");
    client = await connectClient();
    await createKeyspace(client, keyspace);
    for (const table of tables) await client.execute(`CREATE TABLE ${keyspace}.${table}`);
  }, 120_000);

  afterAll(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
    await unlock?.();
  });

  return {
    keyspace,
    get client() {
      if (client === undefined)
        throw new Error("the suite's Cassandra client is not connected yet");
      return client;
    },
  };
}
