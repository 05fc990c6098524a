import { HOST_AND_PORT, secret, timerMs, tlsConfig } from "sluice/connector";
import { z } from "zod";

/**
 * TLS settings passed through to Node's `tls.connect`: core's, worded for brokers. `safeExtend`
 * keeps core's check of the PEM text, which `extend` cannot carry over a key it replaces.
 */
export const kafkaTlsOptions = tlsConfig.safeExtend({
  rejectUnauthorized: tlsConfig.shape.rejectUnauthorized.describe(
    "false accepts any broker certificate (tests only)",
  ),
});

/** SASL authentication, passed through to kafkajs. */
export const kafkaSaslOptions = z.strictObject({
  mechanism: z
    .enum(["plain", "scram-sha-256", "scram-sha-512"])
    .describe("the SASL mechanism the brokers accept"),
  username: z.string().min(1).describe("the SASL user"),
  password: secret(z.string().min(1)).describe("the SASL user's password"),
});

/** The connection fields the Kafka source and sink share. */
export const kafkaClientFields = {
  brokers: z
    .array(
      z
        .string()
        .regex(HOST_AND_PORT, 'must be "host:port", e.g. "127.0.0.1:9092"')
        // Node refuses any other port deep in kafkajs, which then reads as a broker that is down.
        .refine(
          hasValidPort,
          "must have a port from 1 to 65535 (Kafka listens on 9092 by default)",
        ),
    )
    .min(1)
    .describe('bootstrap brokers as "host:port"; the others are found from the cluster metadata'),
  clientId: z
    .string()
    .min(1)
    .default("sluice")
    .describe("the client id the brokers log and quota by"),
  tls: z
    .union([z.boolean(), kafkaTlsOptions])
    .optional()
    .describe("true, or TLS options, to connect with TLS"),
  sasl: kafkaSaslOptions.optional().describe("SASL authentication"),
  connectionTimeoutMs: timerMs(1)
    .default(3_000)
    .describe("how long opening one broker connection may take"),
  requestTimeoutMs: timerMs(1).default(30_000).describe("how long one request may take"),
  retries: z
    .int()
    .min(0)
    .default(5)
    .describe("how often kafkajs retries a failed request (with backoff) before giving up"),
};

function hasValidPort(entry: string): boolean {
  const port = Number(entry.slice(entry.lastIndexOf(":") + 1));
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** The connection part of a parsed config. */
export interface KafkaClientConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly tls?: boolean | z.output<typeof kafkaTlsOptions> | undefined;
  readonly sasl?: z.output<typeof kafkaSaslOptions> | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retries: number;
}

/** The schema of the connection fields alone, as `checkConnection` takes them. */
export const kafkaClientConfig = z.strictObject(kafkaClientFields);

/** What `checkConnection` accepts: the connection fields, with defaults optional. */
export type KafkaClientConfigInput = z.input<typeof kafkaClientConfig>;
