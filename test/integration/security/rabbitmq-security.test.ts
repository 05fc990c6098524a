// The RabbitMQ source and sink against the amqps listener (5671). Right user and CA: a record
// goes through the sink and comes out of the source. Unknown CA, wrong host name, wrong
// password, a vhost without permissions, a queue and an exchange the user may not use: each a
// SLUICE_CONNECTOR_REFUSED naming what to fix, without the password.
// Start the servers first: scripts/services/start
import type { ChannelModel } from "amqplib";
import { ConnectorRegistry } from "sluice/advanced";
import type { Sink, Source } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RabbitMqSink,
  RabbitMqSource,
  rabbitmqSink,
  rabbitmqSource,
} from "../../../connectors/rabbitmq/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import { adminConnection, rabbitmqctl, uniqueName } from "../rabbitmq/broker.js";
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

const AMQPS = "127.0.0.1:5671";
const queue = uniqueName("security");
// A vhost that exists but on which the limited user has no permissions.
const closedVhost = uniqueName("security-vh");
const batch = { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "security/1/0/0" };

const login = (user: { username: string; password: string }) => ({
  hosts: [AMQPS],
  tls: { ca: pem("ca.pem") },
  ...user,
  connectTimeoutMs: 5_000,
});

let admin: ChannelModel;
let unlock: (() => Promise<void>) | undefined;

function registryWithLog() {
  const { logger, lines } = capturingLogger();
  const registry = new ConnectorRegistry({ logger }).use(rabbitmqSource, rabbitmqSink);
  return { registry, lines };
}

function sourceOf(registry: ConnectorRegistry, config: Record<string, unknown>): RabbitMqSource {
  const instance = registry.createSource("rabbitmq", { queue: { name: queue }, ...config });
  if (!(instance.connector instanceof RabbitMqSource)) throw new Error("expected a source");
  return instance.connector;
}

function sinkOf(registry: ConnectorRegistry, config: Record<string, unknown>): RabbitMqSink {
  // The default exchange routes by queue name.
  const instance = registry.createSink("rabbitmq", { exchange: "", routingKey: queue, ...config });
  if (!(instance.connector instanceof RabbitMqSink)) throw new Error("expected a sink");
  return instance.connector;
}

/** Connects a source or sink made by `make`; the registry is disposed either way. */
async function connectWith(make: (registry: ConnectorRegistry) => Source | Sink): Promise<void> {
  const { registry } = registryWithLog();
  try {
    await make(registry).connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
  } finally {
    await registry.dispose();
  }
}

/** Connects a sink and writes one record; the registry is disposed either way. */
async function write(config: Record<string, unknown>, value: string): Promise<void> {
  const { registry } = registryWithLog();
  try {
    const sink = sinkOf(registry, config);
    await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    await sink.writeBatch([{ value: new TextEncoder().encode(value) }], batch);
  } finally {
    await registry.dispose();
  }
}

/** Publishes `value` through a sink and reads it back through a source, both of `config`. */
async function roundTrip(config: Record<string, unknown>, value: string) {
  const { registry, lines } = registryWithLog();
  try {
    const source = sourceOf(registry, config);
    await source.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    const sink = sinkOf(registry, config);
    await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    await sink.writeBatch([{ value: new TextEncoder().encode(value) }], batch);
    const seen: string[] = [];
    const signal = AbortSignal.timeout(SECURITY_TIMEOUT_MS);
    while (!seen.includes(value)) {
      const result = await source.read(signal);
      seen.push(...result.records.map((record) => new TextDecoder().decode(record.value)));
      await result.ack();
    }
    expect(seen).toContain(value);
    return { lines };
  } finally {
    await registry.dispose();
  }
}

beforeAll(async () => {
  unlock = await lockServer("rabbitmq");
  admin = await adminConnection();
  await rabbitmqctl("add_vhost", closedVhost);
}, SECURITY_TIMEOUT_MS);

afterAll(async () => {
  if (admin !== undefined) {
    const channel = await admin.createChannel();
    await channel.deleteQueue(queue).catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
  await rabbitmqctl("delete_vhost", closedVhost).catch(() => undefined);
  await unlock?.();
}, SECURITY_TIMEOUT_MS);

describe("RabbitMQ over amqps (5671)", () => {
  it(
    "a record goes through the sink and the source with the right user and CA",
    async () => {
      const { lines } = await roundTrip(login(USERS.sluice), "over amqps");
      expect(unverifiedWarnings(lines)).toEqual([]);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "an amqps:// url alone checks the certificate too (against Node's CAs): tls.ca",
    async () => {
      await expectRefused(
        connectWith((registry) =>
          sourceOf(registry, { url: `amqps://sluice:sluice-secret@${AMQPS}` }),
        ),
        ["tls.ca", AMQPS],
        ["sluice-secret"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses the broker's certificate with an unknown CA, naming tls.ca",
    async () => {
      const config = { ...login(USERS.sluice), tls: { ca: pem("unknown-ca.pem") } };
      await expectUntrustedServer(
        connectWith((registry) => sourceOf(registry, config)),
        AMQPS,
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a certificate for another host name, naming tls.servername",
    async () => {
      const server = await wrongHostServer();
      try {
        const config = { ...login(USERS.sluice), hosts: [`127.0.0.1:${server.port}`] };
        await expectRefused(
          connectWith((registry) => sinkOf(registry, config)),
          ["tls.servername", "ERR_TLS_CERT_ALTNAME_INVALID"],
        );
      } finally {
        await server.close();
      }
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a wrong password, naming the password setting and not the password",
    async () => {
      const config = login({ ...USERS.sluice, password: WRONG_PASSWORD });
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        ['"password"', '"sluice"'],
        [WRONG_PASSWORD],
      );
      await expectRefused(
        connectWith((registry) => sinkOf(registry, config)),
        ['"password"'],
        [WRONG_PASSWORD],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a vhost the user has no permissions on, naming the vhost",
    async () => {
      const config = { ...login(USERS.limited), vhost: closedVhost };
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        [closedVhost, '"vhost"'],
        [USERS.limited.password],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a source on a queue the user may not use, naming the queue",
    async () => {
      // limited may only use names starting with "limited.".
      await expectRefused(
        connectWith((registry) => sourceOf(registry, login(USERS.limited))),
        [`"${queue}"`, "permission"],
        [USERS.limited.password],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "fails a batch to an exchange the user may not write to, naming the exchange (no retry)",
    async () => {
      // The broker closes the channel on the publish: without the refusal the sink would
      // reconnect and publish again for ever.
      await expectRefused(
        write(login(USERS.limited), "denied"),
        ["publishing to exchange", "ACCESS_REFUSED", "permission"],
        [USERS.limited.password],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "with tls.rejectUnauthorized false connects despite an unknown CA and warns once per connector",
    async () => {
      const config = {
        ...login(USERS.sluice),
        tls: { ca: pem("unknown-ca.pem"), rejectUnauthorized: false },
      };
      const { lines } = await roundTrip(config, "unverified");
      expect(unverifiedWarnings(lines)).toHaveLength(2);
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("logs", () => {
  it("never held a password, right or wrong, at debug level", () => {
    expect(loggedSecrets(ALL_PASSWORDS)).toEqual([]);
  });
});
