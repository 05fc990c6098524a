// The Cassandra sink against nodes that require TLS: the login-tests node (cassandra-auth, 9242:
// TLS, PasswordAuthenticator, CassandraAuthorizer) and the shared node's TLS port (9142). Right
// role and CA: rows arrive. Unknown CA, wrong host name, wrong password, a table the role may
// not modify, and `tls: true` without the test CA: each a SLUICE_CONNECTOR_REFUSED naming what
// to fix, without the password. Start the servers first: scripts/services/start
import tls from "node:tls";
import { Client } from "cassandra-driver";
import { ConnectorRegistry } from "sluice/advanced";
import type { WriteBatchContext } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CassandraSink, cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import { uniqueName } from "../cassandra/cassandra-helpers.js";
import {
  ALL_PASSWORDS,
  capturingLogger,
  expectRefused,
  expectUntrustedServer,
  loggedSecrets,
  pem,
  SECURITY_TIMEOUT_MS,
  USERS,
  unverifiedWarnings,
  WRONG_PASSWORD,
  wrongHostServer,
} from "./security-helpers.js";

const AUTH_NODE = "127.0.0.1:9242";
const TLS_NODE = "127.0.0.1:9142";
const KEYSPACE = "sluice_secure";
const table = uniqueName("events");
const batch: WriteBatchContext = {
  batchTime: 1_700_000_000_000,
  partition: 0,
  idempotencyKey: "security/1/0/0",
};
const row = (id: string) => ({ value: new TextEncoder().encode(JSON.stringify({ id, n: 1 })) });

let admin: Client;

/** A driver client of the login-tests node as `sluice`, for the tests' own reads. */
async function connectAdmin(): Promise<Client> {
  const client = new Client({
    contactPoints: [AUTH_NODE],
    localDataCenter: "datacenter1",
    sslOptions: { ca: [pem("ca.pem")], rejectUnauthorized: true },
    credentials: USERS.sluice,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown();
    throw new Error(
      `cassandra-auth is not answering on ${AUTH_NODE} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start cassandra-auth`,
      { cause: error },
    );
  }
  return client;
}

/** A sink made through a registry (so its config is validated), logging into `lines`. */
function sinkFor(config: Record<string, unknown>) {
  const { logger, lines } = capturingLogger();
  const registry = new ConnectorRegistry({ logger }).use(cassandraSink);
  const instance = registry.createSink("cassandra", {
    keyspace: KEYSPACE,
    table,
    connectTimeoutMs: 5_000,
    ...config,
  });
  if (!(instance.connector instanceof CassandraSink)) throw new Error("expected a CassandraSink");
  return { sink: instance.connector, registry, lines };
}

/** Connects a sink and writes one row; the sink and registry are closed either way. */
async function connectAndWrite(config: Record<string, unknown>, id = "x"): Promise<void> {
  const { sink, registry } = sinkFor(config);
  try {
    await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    await sink.writeBatch([row(id)], batch);
  } finally {
    await registry.dispose();
  }
}

beforeAll(async () => {
  admin = await connectAdmin();
  await admin.execute(`CREATE TABLE ${KEYSPACE}.${table} (id text PRIMARY KEY, n int)`);
}, SECURITY_TIMEOUT_MS);

afterAll(async () => {
  await admin?.execute(`DROP TABLE IF EXISTS ${KEYSPACE}.${table}`).catch(() => undefined);
  await admin?.shutdown();
});

describe("Cassandra sink, login-tests node (TLS + PasswordAuthenticator)", () => {
  const good = {
    contactPoints: [AUTH_NODE],
    credentials: USERS.sluice,
    tls: { ca: pem("ca.pem") },
  };

  it(
    "writes a row with the right role and CA",
    async () => {
      const id = uniqueName("good");
      const { sink, registry, lines } = sinkFor(good);
      try {
        await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
        await sink.writeBatch([row(id)], batch);
      } finally {
        await registry.dispose();
      }
      const found = await admin.execute(`SELECT n FROM ${KEYSPACE}.${table} WHERE id = ?`, [id], {
        prepare: true,
      });
      expect(found.first()?.get("n")).toBe(1);
      expect(unverifiedWarnings(lines)).toEqual([]);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a server certificate of an unknown CA, naming tls.ca",
    async () => {
      await expectUntrustedServer(
        connectAndWrite({ ...good, tls: { ca: pem("unknown-ca.pem") } }),
        AUTH_NODE,
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a server certificate for another host name, naming tls.servername",
    async () => {
      const server = await wrongHostServer();
      try {
        await expectRefused(
          connectAndWrite({ ...good, contactPoints: [`127.0.0.1:${server.port}`] }),
          ["tls.servername", "ERR_TLS_CERT_ALTNAME_INVALID"],
        );
      } finally {
        await server.close();
      }
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a wrong password, naming credentials.password and not the password",
    async () => {
      await expectRefused(
        connectAndWrite({ ...good, credentials: { ...USERS.sluice, password: WRONG_PASSWORD } }),
        ["credentials.password", "sluice"],
        [WRONG_PASSWORD],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses no credentials at all, naming credentials",
    async () => {
      await expectRefused(connectAndWrite({ contactPoints: [AUTH_NODE], tls: good.tls }), [
        "credentials",
      ]);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a role without MODIFY on the table, naming the table and the permission",
    async () => {
      const id = uniqueName("denied");
      await expectRefused(
        connectAndWrite({ ...good, credentials: USERS.limited }, id),
        [`${KEYSPACE}.${table}`, "MODIFY"],
        [USERS.limited.password],
      );
      const found = await admin.execute(`SELECT n FROM ${KEYSPACE}.${table} WHERE id = ?`, [id], {
        prepare: true,
      });
      expect(found.rowLength).toBe(0);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "with tls.rejectUnauthorized false connects to an unverifiable server and warns once",
    async () => {
      const id = uniqueName("unverified");
      const { sink, registry, lines } = sinkFor({
        ...good,
        tls: { ca: pem("unknown-ca.pem"), rejectUnauthorized: false },
      });
      try {
        await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
        await sink.writeBatch([row(id)], batch);
        // A second connect of the same instance does not warn again.
        await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
      } finally {
        await registry.dispose();
      }
      expect(unverifiedWarnings(lines)).toHaveLength(1);
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("Cassandra sink, tls: true", () => {
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    unlock = await lockServer("cassandra");
  }, SECURITY_TIMEOUT_MS);
  afterAll(async () => {
    await unlock?.();
  });

  it(
    "refuses the certificate Node's TLS refuses (a CA Node does not bundle), naming tls.ca",
    async () => {
      // Node itself refuses this server without the test CA...
      const nodeError = await new Promise<unknown>((resolve) => {
        const socket = tls.connect({ host: "127.0.0.1", port: 9142 });
        socket.once("secureConnect", () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.once("error", resolve);
      });
      expect((nodeError as { code?: unknown } | undefined)?.code).toBe("SELF_SIGNED_CERT_IN_CHAIN");
      // ...and so does the sink with `tls: true` (cassandra-driver alone would accept it).
      await expectRefused(
        connectAndWrite({ contactPoints: [TLS_NODE], keyspace: "system", tls: true }),
        ["tls.ca", "SELF_SIGNED_CERT_IN_CHAIN"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("logs", () => {
  it("never held a password, right or wrong, at debug level", () => {
    expect(loggedSecrets(ALL_PASSWORDS)).toEqual([]);
  });
});
