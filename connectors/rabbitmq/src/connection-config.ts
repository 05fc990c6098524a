import { HOST_PORT, requireUrlOrHosts, secret, timerMs, tlsConfig } from "sluice/connector";
import { z } from "zod";

/** TLS settings passed through to Node's `tls.connect`: core's, under this package's name. */
export const tlsOptions = tlsConfig;

/**
 * The connection fields the RabbitMQ source and sink share. Give `url` or `hosts`; explicit
 * `username`/`password`/`vhost` override the ones in `url`.
 */
export const connectionFields = {
  url: z
    .string()
    .regex(/^amqps?:\/\//, "must start with amqp:// or amqps://")
    .optional()
    .describe("amqp://user:password@host:5672/vhost (amqps:// for TLS)"),
  hosts: z
    .array(z.string().regex(HOST_PORT, 'must be "host" or "host:port"'))
    .min(1)
    .optional()
    .describe('brokers tried in order, as "host:port" (port 5672, or 5671 with tls)'),
  vhost: z.string().optional().describe('the virtual host (default "/")'),
  username: z.string().min(1).optional().describe('the user (default "guest")'),
  password: secret(z.string()).optional().describe("the user's password"),
  tls: z
    .union([z.boolean(), tlsOptions])
    .optional()
    .describe("true or TLS options to connect with TLS (amqps:// urls imply it)"),
  heartbeatSeconds: z
    .int()
    .min(0)
    .max(65_535)
    .default(30)
    .describe("AMQP heartbeat; 0 turns it off (a dead peer is then noticed only by TCP)"),
  connectTimeoutMs: timerMs(1)
    .default(10_000)
    .describe("how long opening the TCP connection may take"),
  connectionName: z
    .string()
    .min(1)
    .optional()
    .describe("the name RabbitMQ shows for the connection (default: sluice and the connector id)"),
};

/** The connection part of a config, as parsed. */
export interface ConnectionConfig {
  readonly url?: string | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly vhost?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tls?: boolean | z.output<typeof tlsOptions> | undefined;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  readonly connectionName?: string | undefined;
}

/** Refuses a config that names both `url` and `hosts`, or neither. */
export const requireOneAddress = requireUrlOrHosts({
  url: "amqp://127.0.0.1:5672",
  host: "127.0.0.1:5672",
});

/**
 * The schema `checkConnection` validates with: the connection fields only, other fields (a
 * whole source or sink config) allowed and ignored.
 */
export const connectionConfig = z.object(connectionFields).superRefine(requireOneAddress);
