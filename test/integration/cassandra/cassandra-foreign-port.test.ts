// Contact points where another kind of server answers (an HTTP server, a listener that sends a
// banner, one that answers every request with bytes of another protocol): cassandra-driver
// takes them for a node that is down and retries them for ever. The sink, checkConnection and
// cassandraTable refuse them at connect (SLUICE_CONNECTOR_REFUSED, not retried), naming the
// address and saying it is not a Cassandra native-protocol port, before the driver talks to them
// (some answers crash its parser and end the process), also beside a contact point that is a node.
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { SinkSession } from "sluice/advanced";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraTable, checkConnection } from "../../../connectors/cassandra/src/index.js";
import { lockService } from "../kafka/services.js";
import {
  CONTACT_POINT,
  cassandraRegistry,
  connectClient,
  createCassandraSink,
  createKeyspace,
  uniqueName,
} from "./cassandra-helpers.js";

/** A listener on a free loopback port, and the connections it took. */
interface Listener {
  readonly address: string;
  readonly connections: () => number;
  close(): Promise<void>;
}

async function listen(server: Server | HttpServer): Promise<Listener> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return {
    address: `127.0.0.1:${address.port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let unlock: () => Promise<void>;
let http: Listener;
let banner: Listener;
let otherProtocol: Listener;
const keyspace = uniqueName("foreign");

beforeAll(async () => {
  unlock = await lockService("cassandra");
  const client = await connectClient();
  await createKeyspace(client, keyspace);
  await client.execute(`CREATE TABLE ${keyspace}.t (id int PRIMARY KEY)`);
  await client.shutdown();
  http = await listen(createHttpServer((_, response) => response.end("not cassandra")));
  // Speaks first, like an SSH or SMTP server, and keeps the connection open.
  banner = await listen(createServer((socket) => socket.write("SSH-2.0-OpenSSH_9.6\r\n")));
  // Answers every request with a frame of another binary protocol (a Kafka-like size prefix).
  otherProtocol = await listen(
    createServer((socket) =>
      socket.on("data", () => socket.write(Uint8Array.of(0, 0, 0, 6, 0, 0, 0, 1, 0, 35))),
    ),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([http?.close(), banner?.close(), otherProtocol?.close()]);
  const client = await connectClient();
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.shutdown();
  await unlock?.();
});

const signal = () => AbortSignal.timeout(60_000);
const cases = () =>
  [
    ["an HTTP server", http, '"HTTP/1.1 400 Bad Request"'],
    ["a server that sends a banner", banner, '"SSH-2.0-OpenSSH_9.6"'],
    ["a server of another binary protocol", otherProtocol, "bytes 00 00 00 06 00 00 00 01 00 23"],
  ] as const;

describe("contact points where another kind of server answers", () => {
  it("the sink refuses them at connect, naming the address, and Sluice does not retry", async () => {
    for (const [, listener, answer] of cases()) {
      const registry = cassandraRegistry();
      try {
        const sink = createCassandraSink(registry, {
          contactPoints: [listener.address],
          keyspace,
          table: "t",
          connectTimeoutMs: 2_000,
          // Long: the refusal must not wait for the driver to give up on the port.
          requestTimeoutMs: 60_000,
        });
        const waits: number[] = [];
        const session = new SinkSession(sink, {
          delay: async (ms) => {
            waits.push(ms);
          },
          maxAttempts: 5,
        });
        const failure = await session
          .write(
            [{ value: new TextEncoder().encode('{"id":1}') }],
            { batchTime: 1000, partition: 0, idempotencyKey: "foreign/1000/0/0" },
            signal(),
          )
          .then(
            () => undefined,
            (error: unknown) => error as Error & { code?: string },
          );
        expect(failure?.code).toBe("SLUICE_CONNECTOR_REFUSED");
        expect(failure?.message).toContain(
          `${listener.address} (it answered ${answer}) is not a Cassandra native-protocol port`,
        );
        expect(failure?.message).toContain('Check "contactPoints"');
        expect(waits).toEqual([]); // refused once, never retried
      } finally {
        await registry.dispose();
      }
    }
  }, 120_000);

  it("checkConnection and cassandraTable refuse them the same way", async () => {
    for (const [, listener] of cases()) {
      const config = { contactPoints: [listener.address], requestTimeoutMs: 60_000 };
      await expect(checkConnection(config)).rejects.toMatchObject({
        code: "SLUICE_CONNECTOR_REFUSED",
        message: expect.stringContaining(`${listener.address} (it answered`),
      });
      await expect(cassandraTable(config, "SELECT id FROM system.local")).rejects.toMatchObject({
        code: "SLUICE_CONNECTOR_REFUSED",
        message: expect.stringContaining("is not a Cassandra native-protocol port"),
      });
    }
  }, 120_000);

  it("refuses such a contact point beside a Cassandra node too, naming only it", async () => {
    const failure = await checkConnection({ contactPoints: [CONTACT_POINT, http.address] }).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_CONNECTOR_REFUSED");
    expect(failure?.message).toContain(
      `${http.address} (it answered "HTTP/1.1 400 Bad Request") is not a Cassandra native-protocol port`,
    );
    expect(failure?.message).not.toContain(`${CONTACT_POINT} (it answered`);
    // The node itself answers the same question like Cassandra.
    const info = await checkConnection({ contactPoints: [CONTACT_POINT] });
    expect(info.releaseVersion).toMatch(/^\d+\./);
  }, 60_000);
});
