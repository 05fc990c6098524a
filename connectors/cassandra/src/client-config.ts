import { HOST_PORT, secret, timerMs, tlsConfig } from "sluice/connector";
import { z } from "zod";

/** TLS settings passed through to Node's `tls.connect`: core's, under this package's name. */
export const cassandraTlsOptions = tlsConfig;

/** The connection fields every Cassandra config shares. */
export const cassandraClientFields = {
  contactPoints: z
    .array(z.string().regex(HOST_PORT, 'must be "host" or "host:port", e.g. "127.0.0.1:9042"'))
    .min(1)
    .describe('nodes to contact first, as "host" or "host:port" (port 9042)'),
  localDataCenter: z
    .string()
    .min(1)
    .default("datacenter1")
    .describe("the data centre whose nodes are queried (nodetool status shows it)"),
  credentials: z
    .strictObject({
      username: z.string().min(1).describe("the Cassandra role"),
      password: secret(z.string()).describe("the role's password"),
    })
    .optional()
    .describe("password authentication (PasswordAuthenticator)"),
  tls: z
    .union([z.boolean(), cassandraTlsOptions])
    .optional()
    .describe("true, or TLS options, to connect with TLS"),
  connectTimeoutMs: timerMs(1).default(5_000).describe("how long opening one connection may take"),
  requestTimeoutMs: timerMs(1)
    .default(12_000)
    .describe("how long the client waits for one request before it counts as timed out"),
};

/** The connection part of a parsed config. */
export interface CassandraClientConfig {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly credentials?: { readonly username: string; readonly password: string } | undefined;
  readonly tls?: boolean | z.output<typeof cassandraTlsOptions> | undefined;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** The schema of the connection fields alone (`checkConnection`, `cassandraTable`). */
export const cassandraClientConfig = z.strictObject(cassandraClientFields);

/** What `checkConnection` and `cassandraTable` accept: the connection fields, defaults optional. */
export type CassandraClientConfigInput = z.input<typeof cassandraClientConfig>;
