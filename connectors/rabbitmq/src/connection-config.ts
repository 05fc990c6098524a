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
    .superRefine((value, ctx) => {
      const problem = urlProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
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

/**
 * What is wrong with an amqp(s):// url that Node's URL parser or the percent-decoding of its
 * user, password and vhost would refuse only when connecting; `undefined` when nothing is.
 * Never quotes the url: it may hold a password.
 *
 * @example
 * urlProblem("amqp://127.0.0.1:99999"); // "is not a valid URL: ..."
 */
export function urlProblem(value: string): string | undefined {
  if (!/^amqps?:\/\//.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a valid URL: check the host and that the port is a number from 1 to 65535 (amqp://user:password@host:5672/vhost)";
  }
  if (url.port === "0")
    return "has port 0: give the broker's port, 1 to 65535 (5672, 5671 with TLS)";
  if (url.hostname === "") return "has no host: amqp://user:password@host:5672/vhost";
  const parts = [
    ["user name", url.username],
    ["password", url.password],
    ["vhost (the path)", url.pathname.slice(1)],
  ] as const;
  for (const [part, text] of parts) {
    try {
      decodeURIComponent(text);
    } catch {
      return `has a malformed percent-escape in its ${part}: write % as %25, / in a vhost as %2F`;
    }
  }
  return undefined;
}
