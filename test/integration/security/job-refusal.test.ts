// Refusals inside a running job: a StreamingContext whose source or sink is refused (wrong
// password, a denied subscription, a publish or a write without permission) terminates with the
// connector's SLUICE_CONNECTOR_REFUSED as the cause instead of reconnecting for ever; and a job
// with the right credentials writes through TLS and a login. Start the servers first:
// scripts/services/start

import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "cassandra-driver";
import { closeConnectorsOf, hasErrorCode, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import { rabbitmqSink } from "../../../connectors/rabbitmq/src/index.js";
import { SluiceProcess } from "../../samples/sluice-process.js";
import { lockServers } from "../../support/service-lock.js";
import { uniqueName } from "../cassandra/cassandra-helpers.js";
import {
  ALL_PASSWORDS,
  messagesOf,
  pem,
  renderings,
  SECURITY_TIMEOUT_MS,
  USERS,
  WRONG_PASSWORD,
} from "./security-helpers.js";

const KEYSPACE = "sluice_secure";
const table = uniqueName("job");
let admin: Client;
let unlock: (() => Promise<void>) | undefined;

/** The first error with `code` in the chain of `error`, or undefined. */
function withCode(error: unknown, code: "SLUICE_CONNECTOR_REFUSED"): Error | undefined {
  for (let current = error, depth = 0; depth < 10; depth++) {
    if (hasErrorCode(current, code)) return current as Error;
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Starts the job `build` sets up and resolves with how it ended (undefined: it stopped cleanly). */
async function runUntilTerminated(build: (ctx: StreamingContext) => void): Promise<unknown> {
  const ctx = new StreamingContext({ batchInterval: 250, appName: "security-job" });
  build(ctx);
  try {
    await ctx.start();
    await ctx.awaitTermination();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await ctx.stop().catch(() => undefined);
    await closeConnectorsOf(ctx);
  }
}

/** The job must end with a refusal whose message holds each of `mentions`. */
async function expectJobRefused(
  build: (ctx: StreamingContext) => void,
  mentions: readonly string[],
): Promise<void> {
  const ended = await runUntilTerminated(build);
  const refusal = withCode(ended, "SLUICE_CONNECTOR_REFUSED");
  expect(refusal, messagesOf(ended)).toBeDefined();
  for (const mention of mentions) expect(refusal?.message).toContain(mention);
  // Neither the wrong password tried nor the right one of a user refused a resource, however the
  // job's error is shown (its causes inspected to any depth included).
  for (const [shown, text] of Object.entries(renderings(ended))) {
    for (const password of ALL_PASSWORDS) {
      expect({ shown, leaks: text.includes(password) }).toEqual({ shown, leaks: false });
    }
  }
}

const cassandraConfig = (user: { username: string; password: string }) => ({
  contactPoints: ["127.0.0.1:9242"],
  keyspace: KEYSPACE,
  table,
  tls: { ca: pem("ca.pem") },
  credentials: user,
});

beforeAll(async () => {
  // Never beside a suite that restarts one of these servers.
  unlock = await lockServers(["kafka", "mosquitto", "rabbitmq"]);
  admin = new Client({
    contactPoints: ["127.0.0.1:9242"],
    localDataCenter: "datacenter1",
    sslOptions: { ca: [pem("ca.pem")], rejectUnauthorized: true },
    credentials: USERS.sluice,
  });
  await admin.connect().catch((error: unknown) => {
    throw new Error(
      "cassandra-auth is not answering on 127.0.0.1:9242; start it with: scripts/services/start cassandra-auth",
      { cause: error },
    );
  });
  await admin.execute(`CREATE TABLE ${KEYSPACE}.${table} (id text PRIMARY KEY, n int)`);
}, SECURITY_TIMEOUT_MS);

afterAll(async () => {
  await admin?.execute(`DROP TABLE IF EXISTS ${KEYSPACE}.${table}`).catch(() => undefined);
  await admin?.shutdown();
  await unlock?.();
});

describe("a job with the right credentials", () => {
  it(
    "writes rows into Cassandra over TLS with a login",
    async () => {
      const ctx = new StreamingContext({ batchInterval: 250, appName: "security-job" });
      ctx.use(cassandraSink);
      const rows = [JSON.stringify({ id: "one", n: 1 }), JSON.stringify({ id: "two", n: 2 })];
      ctx.queueStream([rows]).sink("cassandra", cassandraConfig(USERS.sluice));
      await ctx.start();
      try {
        // Wait for the rows, however slow the machine is; the test's timeout bounds it.
        for (;;) {
          const found = await admin.execute(`SELECT id FROM ${KEYSPACE}.${table}`);
          if (found.rowLength === 2) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await ctx.stop({ graceful: true });
        await closeConnectorsOf(ctx);
      }
      const found = await admin.execute(`SELECT id, n FROM ${KEYSPACE}.${table}`);
      expect(Object.fromEntries(found.rows.map((row) => [row.get("id"), row.get("n")]))).toEqual({
        one: 1,
        two: 2,
      });
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("a job that is refused ends with the refusal", () => {
  it(
    "Kafka source with a wrong password",
    async () => {
      const kafka = {
        brokers: ["127.0.0.1:9094"],
        tls: { ca: pem("ca.pem") },
        sasl: { mechanism: "scram-sha-512", username: "sluice", password: WRONG_PASSWORD },
        retries: 1,
      };
      await expectJobRefused(
        (ctx) => {
          ctx.use(kafkaSource, kafkaSink);
          ctx
            .source("kafka", { ...kafka, topics: [uniqueName("t")], groupId: uniqueName("g") })
            .sink("kafka", { ...kafka, topic: uniqueName("t") });
        },
        ["sasl.password"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "MQTT source whose subscription the broker denies",
    async () => {
      const filter = `secret/${uniqueName("f")}/#`;
      await expectJobRefused(
        (ctx) => {
          ctx.use(mqttSource, cassandraSink);
          ctx
            .source("mqtt", {
              hosts: ["127.0.0.1:8885"],
              tls: { ca: pem("ca.pem") },
              ...USERS.limited,
              clientId: uniqueName("security-job"),
              topics: [filter],
            })
            .sink("cassandra", cassandraConfig(USERS.sluice));
        },
        [`"${filter}"`],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "RabbitMQ sink publishing where the user may not",
    async () => {
      await expectJobRefused(
        (ctx) => {
          ctx.use(rabbitmqSink);
          ctx.queueStream([["denied"]]).sink("rabbitmq", {
            hosts: ["127.0.0.1:5671"],
            tls: { ca: pem("ca.pem") },
            ...USERS.limited,
            exchange: "",
            routingKey: "security-denied",
          });
        },
        ["ACCESS_REFUSED", "publishing to exchange"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "Cassandra sink whose role may not modify the table",
    async () => {
      await expectJobRefused(
        (ctx) => {
          ctx.use(cassandraSink);
          ctx
            .queueStream([[JSON.stringify({ id: "denied", n: 0 })]])
            .sink("cassandra", cassandraConfig(USERS.limited));
        },
        ["MODIFY", `${KEYSPACE}.${table}`],
      );
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("sluice run of a job that is refused", () => {
  const brokersJob = fileURLToPath(new URL("../../security/jobs/brokers.ts", import.meta.url));
  const indented = (text: string, spaces: number) =>
    text
      .trimEnd()
      .split("\n")
      .map((line) => `${" ".repeat(spaces)}${line}`)
      .join("\n");

  it.each([
    [
      "Kafka SASL on 9094, the password in the file",
      [
        "job:",
        "  kafka:",
        '    brokers: ["127.0.0.1:9094"]',
        "    topics: [orders]",
        "    groupId: refused-cli",
        "    retries: 1",
        "    sasl: { mechanism: scram-sha-512, username: sluice, password: " +
          WRONG_PASSWORD +
          " }",
        "    tls:",
        "      ca: |",
        indented(pem("ca.pem"), 8),
      ],
      "refused the SASL login",
    ],
    [
      "RabbitMQ on 5672, the password from a reference",
      [
        "job:",
        "  rabbitmq:",
        '    hosts: ["127.0.0.1:5672"]',
        "    username: sluice",
        "    password: $" + "{env:SLUICE_REFUSED_PASSWORD}",
        "    queue: { name: refused-cli }",
      ],
      'refused the login of user "sluice"',
    ],
  ])(
    "%s: nothing printed, stack traces and debug logs included, holds the password",
    async (_name, lines, refusal) => {
      const file = join(tmpdir(), `${uniqueName("refused")}.yaml`);
      await writeFile(file, `${lines.join("\n")}\n`);
      const child = new SluiceProcess(
        ["run", brokersJob, "--config", file, "--verbose", "--log-level", "debug"],
        { SLUICE_REFUSED_PASSWORD: WRONG_PASSWORD },
      );
      const exit = await child.exited;
      const output = `${exit.stdout}\n${exit.stderr}`;
      expect(exit.code, output).toBe(1);
      expect(output).toMatch(new RegExp(`^sluice: the job failed: .*${refusal}`, "m"));
      // --verbose prints the error's stack and each cause's.
      expect(output).toContain("caused by:");
      expect(output.includes(WRONG_PASSWORD), output).toBe(false);
    },
    SECURITY_TIMEOUT_MS,
  );
});
