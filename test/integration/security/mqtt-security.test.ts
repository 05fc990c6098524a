// The MQTT source and sink against Mosquitto's TLS listeners: 8883 (password, ACL file), 8884
// (client certificate, ACL file) and 8885 (password, dynamic security plugin, which refuses a
// subscription it does not allow). Right user and CA: a record goes through the sink and comes
// out of the source. Unknown CA, wrong host name, wrong password, a publish and a subscription
// the rules deny: each a SLUICE_CONNECTOR_REFUSED naming what to fix, without the password.
// Start the servers first: scripts/services/start
import { randomUUID } from "node:crypto";
import { ConnectorRegistry } from "sluice/advanced";
import type { Sink, Source } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MqttSink, MqttSource, mqttSink, mqttSource } from "../../../connectors/mqtt/src/index.js";
import { lockServer } from "../../support/service-lock.js";
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

const PASSWORD_ACL = "127.0.0.1:8883";
const CERTIFICATE = "127.0.0.1:8884";
const DYNSEC = "127.0.0.1:8885";
const run = randomUUID().slice(0, 8);
const batch = { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "security/1/0/0" };

const login = (host: string, user: { username: string; password: string }) => ({
  hosts: [host],
  tls: { ca: pem("ca.pem") },
  ...user,
  connectTimeoutMs: 5_000,
});

let unlock: (() => Promise<void>) | undefined;

function registryWithLog() {
  const { logger, lines } = capturingLogger();
  const registry = new ConnectorRegistry({ logger }).use(mqttSource, mqttSink);
  return { registry, lines };
}

function sourceOf(registry: ConnectorRegistry, config: Record<string, unknown>): MqttSource {
  const instance = registry.createSource("mqtt", {
    clientId: `security-${run}-${randomUUID().slice(0, 6)}`,
    qos: 1,
    ...config,
  });
  if (!(instance.connector instanceof MqttSource)) throw new Error("expected an MqttSource");
  return instance.connector;
}

function sinkOf(registry: ConnectorRegistry, config: Record<string, unknown>): MqttSink {
  const instance = registry.createSink("mqtt", { qos: 1, ...config });
  if (!(instance.connector instanceof MqttSink)) throw new Error("expected an MqttSink");
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

/** Publishes through a sink of `config` to `topic`; the registry is disposed either way. */
async function publish(config: Record<string, unknown>, topic: string): Promise<void> {
  const { registry } = registryWithLog();
  try {
    const sink = sinkOf(registry, { ...config, topic });
    await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    await sink.writeBatch([{ value: new TextEncoder().encode("denied") }], batch);
  } finally {
    await registry.dispose();
  }
}

/** Subscribes a source to `topic`, publishes `value` there through a sink, reads it back. */
async function roundTrip(
  sourceConfig: Record<string, unknown>,
  sinkConfig: Record<string, unknown>,
  topic: string,
  value: string,
) {
  const { registry, lines } = registryWithLog();
  try {
    const source = sourceOf(registry, { ...sourceConfig, topics: [topic] });
    await source.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    const sink = sinkOf(registry, { ...sinkConfig, topic });
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
  unlock = await lockServer("mosquitto");
}, SECURITY_TIMEOUT_MS);

afterAll(async () => {
  await unlock?.();
});

describe("MQTT over TLS with a password (8883, ACL file)", () => {
  it(
    "a record goes through the sink and the source with the right user and CA",
    async () => {
      const config = login(PASSWORD_ACL, USERS.sluice);
      const { lines } = await roundTrip(config, config, `security/${run}/a`, "over mqtts");
      expect(unverifiedWarnings(lines)).toEqual([]);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "an mqtts:// url alone checks the certificate too (against Node's CAs): tls.ca",
    async () => {
      await expectRefused(
        connectWith((registry) =>
          sinkOf(registry, { url: `mqtts://sluice:sluice-secret@${PASSWORD_ACL}`, topic: "t" }),
        ),
        ["tls.ca", PASSWORD_ACL],
        ["sluice-secret"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses the broker's certificate with an unknown CA, naming tls.ca",
    async () => {
      const config = { ...login(PASSWORD_ACL, USERS.sluice), tls: { ca: pem("unknown-ca.pem") } };
      await expectUntrustedServer(
        connectWith((registry) => sourceOf(registry, { ...config, topics: ["public/x"] })),
        PASSWORD_ACL,
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a certificate for another host name, naming tls.servername",
    async () => {
      const server = await wrongHostServer();
      try {
        const config = {
          ...login(PASSWORD_ACL, USERS.sluice),
          hosts: [`127.0.0.1:${server.port}`],
        };
        await expectRefused(
          connectWith((registry) => sinkOf(registry, { ...config, topic: "public/x" })),
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
      const config = login(PASSWORD_ACL, { ...USERS.sluice, password: WRONG_PASSWORD });
      await expectRefused(
        connectWith((registry) => sourceOf(registry, { ...config, topics: ["public/x"] })),
        ['"password"'],
        [WRONG_PASSWORD],
      );
      await expectRefused(
        connectWith((registry) => sinkOf(registry, { ...config, topic: "public/x" })),
        ['"password"'],
        [WRONG_PASSWORD],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "fails a batch the ACL does not let the user publish, naming the topic (MQTT 5 PUBACK 0x87)",
    async () => {
      // limited may only read sensors/#: Mosquitto answers the QoS 1 publish with "not authorized".
      const topic = `sensors/${run}/denied`;
      await expectRefused(
        publish(login(PASSWORD_ACL, USERS.limited), topic),
        ["not authorized", topic],
        [USERS.limited.password],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "with tls.rejectUnauthorized false connects despite an unknown CA and warns once per connector",
    async () => {
      const config = {
        ...login(PASSWORD_ACL, USERS.sluice),
        tls: { ca: pem("unknown-ca.pem"), rejectUnauthorized: false },
      };
      const { lines } = await roundTrip(config, config, `security/${run}/b`, "unverified");
      expect(unverifiedWarnings(lines)).toHaveLength(2);
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("MQTT over TLS with client certificates (8884)", () => {
  it(
    "a record goes through the sink and the source with the client certificate",
    async () => {
      const config = {
        hosts: [CERTIFICATE],
        tls: { ca: pem("ca.pem"), cert: pem("client-sluice.pem"), key: pem("client-sluice.key") },
      };
      await roundTrip(config, config, `security/${run}/c`, "over mtls");
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a connection without a client certificate, naming tls.cert",
    async () => {
      const config = { hosts: [CERTIFICATE], tls: { ca: pem("ca.pem") }, connectTimeoutMs: 5_000 };
      await expectRefused(
        connectWith((registry) => sinkOf(registry, { ...config, topic: "public/x" })),
        ["tls.cert"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("MQTT over TLS with the dynamic security plugin (8885)", () => {
  it(
    "a record goes through with the right user; limited reads what it may",
    async () => {
      const topic = `public/${run}/d`;
      await roundTrip(
        login(DYNSEC, USERS.limited),
        login(DYNSEC, USERS.sluice),
        topic,
        "over dynsec",
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a subscription the roles deny (SUBACK 0x87), naming the filter",
    async () => {
      const filter = `secret/${run}/#`;
      await expectRefused(
        connectWith((registry) =>
          sourceOf(registry, { ...login(DYNSEC, USERS.limited), topics: [filter] }),
        ),
        [`"${filter}"`, "refused the subscription"],
        [USERS.limited.password],
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
