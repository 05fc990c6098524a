// The Kafka source and sink against the broker's TLS listeners: 9094 (SASL_SSL, SCRAM-SHA-512)
// and 9095 (TLS with a client certificate), with ACLs. Right user and CA: a record goes through
// the sink and comes out of the source. Unknown CA, wrong host name, wrong password, missing
// client certificate, a topic without Read and a topic without Write: each a
// SLUICE_CONNECTOR_REFUSED naming what to fix, without the password.
// Start the servers first: scripts/services/start
import type { Admin } from "kafkajs";
import { ConnectorRegistry } from "sluice/advanced";
import type { Sink, Source } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  KafkaSink,
  KafkaSource,
  kafkaSink,
  kafkaSource,
} from "../../../connectors/kafka/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import { connectAdmin, createTopic, uniqueName } from "../kafka/kafka-helpers.js";
import { readAtLeast, settleAll, values } from "../kafka/source-harness.js";
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

const SASL = "127.0.0.1:9094";
const MTLS = "127.0.0.1:9095";
const topic = uniqueName("security");
// The limited user is denied everything on topics starting with "secret.".
const secretTopic = uniqueName("secret.security");
const batch = { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "security/1/0/0" };

const scram = (user: { username: string; password: string }) => ({
  brokers: [SASL],
  tls: { ca: pem("ca.pem") },
  sasl: { mechanism: "scram-sha-512", ...user },
  // kafkajs retries a failed connect this often before the connector explains it.
  retries: 1,
});
const mtls = (cert: string) => ({
  brokers: [MTLS],
  tls: { ca: pem("ca.pem"), cert: pem(`${cert}.pem`), key: pem(`${cert}.key`) },
  retries: 1,
});

let admin: Admin;
let unlock: (() => Promise<void>) | undefined;

/** A registry with the Kafka plugins, logging into `lines`. */
function registryWithLog() {
  const { logger, lines } = capturingLogger();
  const registry = new ConnectorRegistry({ logger }).use(kafkaSource, kafkaSink);
  return { registry, lines };
}

function sourceOf(registry: ConnectorRegistry, config: Record<string, unknown>): KafkaSource {
  const instance = registry.createSource("kafka", {
    topics: [topic],
    groupId: uniqueName("security-group"),
    startFrom: "earliest",
    ...config,
  });
  if (!(instance.connector instanceof KafkaSource)) throw new Error("expected a KafkaSource");
  return instance.connector;
}

function sinkOf(registry: ConnectorRegistry, config: Record<string, unknown>): KafkaSink {
  const instance = registry.createSink("kafka", { topic, ...config });
  if (!(instance.connector instanceof KafkaSink)) throw new Error("expected a KafkaSink");
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

/** Writes `value` through a sink of `sinkConfig` and reads it back through a source. */
async function roundTrip(
  sinkConfig: Record<string, unknown>,
  sourceConfig: Record<string, unknown>,
  value: string,
): Promise<{ lines: Record<string, unknown>[] }> {
  const { registry, lines } = registryWithLog();
  try {
    const sink = sinkOf(registry, sinkConfig);
    await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    await sink.writeBatch([{ value: new TextEncoder().encode(value) }], batch);
    const source = sourceOf(registry, sourceConfig);
    await source.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
    const seen: string[] = [];
    // Earlier tests wrote to the topic too: read until this value shows up.
    while (!seen.includes(value)) {
      const { records, results } = await readAtLeast(source, 1, SECURITY_TIMEOUT_MS);
      seen.push(...values(records));
      await settleAll(results);
    }
    expect(seen).toContain(value);
    return { lines };
  } finally {
    await registry.dispose();
  }
}

beforeAll(async () => {
  unlock = await lockServer("kafka");
  admin = await connectAdmin();
  await createTopic(admin, topic);
  await createTopic(admin, secretTopic);
}, SECURITY_TIMEOUT_MS);

afterAll(async () => {
  await admin?.deleteTopics({ topics: [topic, secretTopic] }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describe("Kafka over SASL_SSL (9094)", () => {
  it(
    "a record goes through the sink and the source with the right user and CA",
    async () => {
      const { lines } = await roundTrip(scram(USERS.sluice), scram(USERS.sluice), "over scram");
      expect(unverifiedWarnings(lines)).toEqual([]);
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses the broker's certificate with an unknown CA, naming tls.ca",
    async () => {
      const config = { ...scram(USERS.sluice), tls: { ca: pem("unknown-ca.pem") } };
      await expectUntrustedServer(
        connectWith((registry) => sourceOf(registry, config)),
        SASL,
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a certificate for another host name, naming tls.servername",
    async () => {
      const server = await wrongHostServer();
      try {
        const config = { ...scram(USERS.sluice), brokers: [`127.0.0.1:${server.port}`] };
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
    "refuses a wrong password, naming sasl.password and not the password",
    async () => {
      const config = scram({ ...USERS.sluice, password: WRONG_PASSWORD });
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        ["sasl.password"],
        [WRONG_PASSWORD],
      );
      await expectRefused(
        connectWith((registry) => sinkOf(registry, config)),
        ["sasl.password"],
        [WRONG_PASSWORD],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a source on a topic the user may not read, naming the topic",
    async () => {
      const config = { ...scram(USERS.limited), topics: [secretTopic] };
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        [secretTopic, "Read"],
        [USERS.limited.password],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a sink on a topic the user may not write, naming the topic and Write",
    async () => {
      const { registry } = registryWithLog();
      try {
        const sink = sinkOf(registry, scram(USERS.limited));
        const writing = (async () => {
          await sink.connect(AbortSignal.timeout(SECURITY_TIMEOUT_MS));
          await sink.writeBatch([{ value: new TextEncoder().encode("denied") }], batch);
        })();
        await expectRefused(writing, [`"${topic}"`, "Write"], [USERS.limited.password]);
      } finally {
        await registry.dispose();
      }
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "with tls.rejectUnauthorized false connects despite an unknown CA and warns once per connector",
    async () => {
      const config = {
        ...scram(USERS.sluice),
        tls: { ca: pem("unknown-ca.pem"), rejectUnauthorized: false },
      };
      const { lines } = await roundTrip(config, config, "unverified");
      // One sink and one source.
      expect(unverifiedWarnings(lines)).toHaveLength(2);
    },
    SECURITY_TIMEOUT_MS,
  );
});

describe("Kafka over TLS with client certificates (9095)", () => {
  it(
    "a record goes through the sink and the source with the client certificate",
    async () => {
      await roundTrip(mtls("client-sluice"), mtls("client-sluice"), "over mtls");
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a connection without a client certificate, naming tls.cert",
    async () => {
      const config = { brokers: [MTLS], tls: { ca: pem("ca.pem") }, retries: 1 };
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        ["tls.cert"],
      );
    },
    SECURITY_TIMEOUT_MS,
  );

  it(
    "refuses a source on a topic the certificate's user may not read, naming the topic",
    async () => {
      const config = { ...mtls("client-limited"), topics: [secretTopic] };
      await expectRefused(
        connectWith((registry) => sourceOf(registry, config)),
        [secretTopic],
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
