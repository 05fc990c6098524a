// A connector config refused by its schema with a secret beside the wrong field: the error
// (message, causes, the error inspected to any depth, a log line's `err`) and every line the
// registry and the connectors logged hold no secret, whichever connector and whatever is wrong.
// No server is needed: the config is refused before anything connects.
import { hasErrorCode } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { kafkaSource } from "../../../connectors/kafka/src/index.js";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import { rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import { capturingLogger, loggedSecrets, renderings } from "./security-helpers.js";

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
      for (const [shown, text] of Object.entries(renderings(error))) {
        for (const secret of SECRETS) {
          expect({ shown, secret, leaks: text.includes(secret) }).toEqual({
            shown,
            secret,
            leaks: false,
          });
        }
      }
      expect(loggedSecrets(SECRETS)).toEqual([]);
    },
  );
});
