import { HOST_PORT, requireUrlOrHosts, secret, timerMs, tlsConfig } from "sluice/connector";
import { z } from "zod";

/** TLS settings passed through to Node's `tls.connect`: core's, under this package's name. */
export const tlsOptions = tlsConfig;

/**
 * The connection fields the MQTT source and sink share. Give `url` or `hosts`; explicit
 * `username`/`password` override the ones in `url`. Sluice speaks MQTT 5.
 */
export const connectionFields = {
  url: z
    .string()
    .regex(/^(mqtts?|wss?):\/\//, {
      message: "must start with mqtt://, mqtts://, ws:// or wss://",
      abort: true,
    })
    .refine(
      hasBrokerAddress,
      "must name the broker's host, and a port from 1 to 65535 if any, as in mqtt://broker.example:1883 (no spaces; an empty environment reference leaves the host out)",
    )
    .optional()
    .describe("mqtt://user:password@host:1883 (mqtts:// for TLS, ws:// or wss:// for WebSocket)"),
  hosts: z
    .array(z.string().regex(HOST_PORT, 'must be "host" or "host:port"'))
    .min(1)
    .optional()
    .describe('brokers tried in order, as "host:port" (port 1883, or 8883 with tls)'),
  username: z.string().min(1).optional().describe("the user, when the broker asks for one"),
  password: secret(z.string()).optional().describe("the user's password"),
  tls: z
    .union([z.boolean(), tlsOptions])
    .optional()
    .describe("true or TLS options to connect with TLS (mqtts:// and wss:// urls imply it)"),
  keepaliveSeconds: z
    .int()
    .min(0)
    .max(65_535)
    .default(30)
    .describe("MQTT keep-alive; 0 turns it off (a dead broker is then noticed only by TCP)"),
  connectTimeoutMs: timerMs(1)
    .default(10_000)
    .describe("how long connecting may take, until the broker's CONNACK"),
};

// mqtt.js would take "mqtt://" for localhost and fail with a bare "Invalid URL" on the rest.
function hasBrokerAddress(url: string): boolean {
  try {
    return new URL(url).hostname !== "";
  } catch {
    return false;
  }
}

/** The connection part of a config, as parsed. */
export interface ConnectionConfig {
  readonly url?: string | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tls?: boolean | z.output<typeof tlsOptions> | undefined;
  readonly keepaliveSeconds: number;
  readonly connectTimeoutMs: number;
}

/** Refuses a config that names both `url` and `hosts`, or neither. */
export const requireOneAddress = requireUrlOrHosts({
  url: "mqtt://127.0.0.1:1883",
  host: "127.0.0.1:1883",
});

/**
 * The schema `checkConnection` validates with: the connection fields and an optional client
 * id; other fields (a whole source or sink config) allowed and ignored.
 */
export const connectionConfig = z
  .object({
    ...connectionFields,
    clientId: z.string().min(1).optional().describe("the client id to connect with"),
  })
  .superRefine(requireOneAddress);
