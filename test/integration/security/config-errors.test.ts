// A connector config refused by its schema with a secret beside the wrong field: the error
// (message, causes, the error inspected to any depth, a log line's `err`) and every line the
// registry and the connectors logged hold no secret, whichever connector and whatever is wrong.
// Bad TLS material (a key that is not PEM, a wrong passphrase, a certificate without its key, a
// key of another certificate) is refused the same way by every connector, naming the field, and
// a passphrase nothing uses is a warning. No server is needed: the config is refused before
// anything connects.
import { hasErrorCode } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { kafkaSource } from "../../../connectors/kafka/src/index.js";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import { rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import {
  CLIENT_CERT,
  CLIENT_KEY,
  encryptedClientKey,
  KEY_PASSPHRASE,
  otherKey,
  TEST_CA,
} from "../../../core/test/connector/tls-fixtures.js";
import { capturingLogger, expectNoSecretShown, loggedSecrets } from "./security-helpers.js";

const PLANTED = "s3cr3t-PLANTED";
const KEY_BODY = "MIIEvQIBADANplantedKeyBody";
const KEY = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\n`;
const SECRETS = [PLANTED, KEY_BODY];

interface Case {
  readonly name: string;
  readonly kind: "source" | "sink";
  readonly config: Record<string, unknown>;
  /** A problem the error must name, which shows it was refused for what the case breaks. */
  readonly names: string;
}

const cases: readonly Case[] = [
  {
    name: "kafka",
    kind: "source",
    config: {
      brokers: ["127.0.0.1:9094"],
      sasl: { mechanism: "scram-sha-512", username: "u", password: PLANTED, usernam: "x" },
      tls: { key: KEY, passphrase: PLANTED, rejectUnauthorised: false },
      topics: ["orders"],
      groupId: "g",
    },
    names: "sasl.usernam: Unknown field",
  },
  {
    name: "kafka",
    kind: "source",
    config: {
      brokers: ["127.0.0.1:9094"],
      sasl: { mechanism: "scram-sha-999", username: "u", password: PLANTED },
      topics: ["orders"],
      groupId: "g",
    },
    names: "sasl.mechanism",
  },
  {
    name: "rabbitmq",
    kind: "source",
    config: {
      hosts: ["127.0.0.1:5672"],
      username: "u",
      password: PLANTED,
      queue: { name: "q", durabl: true },
    },
    names: "queue.durabl: Unknown field",
  },
  {
    name: "rabbitmq",
    kind: "source",
    config: {
      url: `amqp://u:${PLANTED}@127.0.0.1:5672`,
      hosts: ["127.0.0.1:5672"],
      queue: { name: "q" },
    },
    names: "Give either url or hosts",
  },
  {
    name: "mqtt",
    kind: "source",
    config: {
      hosts: ["127.0.0.1:8883"],
      username: "u",
      password: PLANTED,
      topics: ["t"],
      clientId: "c",
      qos: 7,
    },
    names: "qos",
  },
  {
    name: "mqtt",
    kind: "source",
    config: { url: `mqtts://u:${PLANTED}@127.0.0.1:8883`, topics: ["t"], clientid: "c" },
    names: "clientid: Unknown field",
  },
  {
    name: "cassandra",
    kind: "sink",
    config: {
      contactPoints: ["127.0.0.1:9242"],
      localDataCenter: "datacenter1",
      credentials: { username: "u", password: PLANTED, rol: "x" },
      tls: { key: KEY, passphrase: PLANTED },
      keyspace: "k",
      table: "t",
    },
    names: "credentials.rol: Unknown field",
  },
  {
    name: "cassandra",
    kind: "sink",
    config: {
      contactPoints: ["127.0.0.1:9242"],
      localDataCenter: "datacenter1",
      // A secret of the wrong type is not quoted either.
      credentials: { username: "u", password: [PLANTED] },
      keyspace: "k",
      table: "t",
    },
    names: "credentials.password",
  },
];

describe("a config refused beside a secret", () => {
  it.each(cases.map((testCase) => [testCase.name, testCase.names, testCase] as const))(
    "%s (%s): neither the error nor the log holds the secret",
    (_name, _names, { name, kind, config, names }) => {
      const { logger } = capturingLogger();
      const registry = new ConnectorRegistry({ logger }).use(
        kafkaSource,
        rabbitmqSource,
        mqttSource,
        cassandraSink,
      );
      let error: unknown;
      try {
        if (kind === "source") registry.createSource(name, config);
        else registry.createSink(name, config);
      } catch (caught) {
        error = caught;
      }
      const message = error instanceof Error ? error.message : String(error);
      expect(hasErrorCode(error, "SLUICE_INVALID_CONFIG"), message).toBe(true);
      expect(message).toContain(names);
      expect(message).toContain("Config given:");
      expectNoSecretShown(error, SECRETS);
      expect(loggedSecrets(SECRETS)).toEqual([]);
    },
  );
});

// A line of the client key: the key's own text, which no error or log line may hold.
const CLIENT_KEY_LINE = CLIENT_KEY.split("\n")[1] ?? "";
const TLS_SECRETS = [PLANTED, KEY_PASSPHRASE, CLIENT_KEY_LINE];

/** Each connector's config around a `tls` setting, as a source (Cassandra: a sink). */
const connectorConfigs: readonly {
  readonly name: string;
  readonly kind: "source" | "sink";
  readonly config: Record<string, unknown>;
}[] = [
  {
    name: "kafka",
    kind: "source",
    config: { brokers: ["127.0.0.1:9095"], topics: ["orders"], groupId: "g" },
  },
  {
    name: "rabbitmq",
    kind: "source",
    config: { hosts: ["127.0.0.1:5671"], queue: { name: "q" } },
  },
  {
    name: "mqtt",
    kind: "source",
    config: { hosts: ["127.0.0.1:8884"], topics: ["t"], clientId: "c" },
  },
  {
    name: "cassandra",
    kind: "sink",
    config: {
      contactPoints: ["127.0.0.1:9142"],
      localDataCenter: "datacenter1",
      keyspace: "k",
      table: "t",
    },
  },
];

const badMaterial: readonly {
  readonly rule: string;
  readonly tls: Record<string, unknown>;
  readonly names: string;
}[] = [
  {
    rule: "a key that is not PEM",
    tls: { ca: TEST_CA, cert: CLIENT_CERT, key: `not a key ${PLANTED}` },
    names: "tls.key: Not a PEM private key",
  },
  {
    rule: "an encrypted key with a wrong passphrase",
    tls: { cert: CLIENT_CERT, key: encryptedClientKey("pkcs8"), passphrase: PLANTED },
    names: "tls.passphrase: Does not decrypt tls.key",
  },
  {
    rule: "an encrypted key without its passphrase",
    tls: { cert: CLIENT_CERT, key: encryptedClientKey("sec1") },
    names: "tls.passphrase: Required: tls.key is encrypted",
  },
  {
    rule: "a certificate without its key",
    tls: { ca: TEST_CA, cert: CLIENT_CERT },
    names: "tls.key: Required with tls.cert",
  },
  {
    rule: "a key of another certificate",
    tls: { cert: CLIENT_CERT, key: otherKey() },
    names: "tls.key: Does not belong to the certificate in tls.cert",
  },
  {
    rule: "a CA that is a file name",
    tls: { ca: "/etc/sluice/ca.pem" },
    names: "tls.ca: A file name, not PEM text",
  },
];

function registryWith(logger: ReturnType<typeof capturingLogger>["logger"]): ConnectorRegistry {
  return new ConnectorRegistry({ logger }).use(
    kafkaSource,
    rabbitmqSource,
    mqttSource,
    cassandraSink,
  );
}

describe("bad TLS material, refused before connecting", () => {
  it.each(
    connectorConfigs.flatMap((connector) =>
      badMaterial.map((bad) => [connector.name, bad.rule, connector, bad] as const),
    ),
  )(
    "%s, %s: SLUICE_INVALID_CONFIG naming the field, no key or passphrase",
    (_name, _rule, { name, kind, config }, { tls, names }) => {
      const registry = registryWith(capturingLogger().logger);
      let error: unknown;
      try {
        if (kind === "source") registry.createSource(name, { ...config, tls });
        else registry.createSink(name, { ...config, tls });
      } catch (caught) {
        error = caught;
      }
      const message = error instanceof Error ? error.message : String(error);
      expect(hasErrorCode(error, "SLUICE_INVALID_CONFIG"), message).toBe(true);
      expect(message).toContain(`Invalid config for ${kind} "${name}"`);
      expect(message).toContain(names);
      expectNoSecretShown(error, TLS_SECRETS);
      expect(loggedSecrets(TLS_SECRETS)).toEqual([]);
    },
  );

  it.each(connectorConfigs.map((connector) => [connector.name, connector] as const))(
    "%s: a passphrase for a key that is not encrypted is a warning naming tls.passphrase",
    (_name, { name, kind, config }) => {
      const { logger, lines } = capturingLogger();
      const registry = registryWith(logger);
      const tls = { ca: TEST_CA, cert: CLIENT_CERT, key: CLIENT_KEY, passphrase: KEY_PASSPHRASE };
      if (kind === "source") registry.createSource(name, { ...config, tls });
      else registry.createSink(name, { ...config, tls });
      const warnings = lines.filter(
        (line) => line.level === 40 && line.option === "tls.passphrase",
      );
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]?.msg)).toContain("tls.key is not encrypted");
      expect(loggedSecrets(TLS_SECRETS)).toEqual([]);
    },
  );
});
