import type { z } from "zod";
import { type HostPort, hostPort, splitHostPort } from "./host-port.js";

/** The address fields broker connectors share: one `url`, or a list of `hosts`. */
export interface BrokerListConfig {
  readonly url?: string | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** The brokers a config names, in the order they are tried, and the user to log in as. */
export interface BrokerList {
  readonly servers: readonly HostPort[];
  /** `username` of the config, else the one in `url` (decoded), else undefined. */
  readonly username: string | undefined;
  /** `password` of the config, else the one in `url` (decoded), else undefined. */
  readonly password: string | undefined;
}

/**
 * Reads the brokers of a config with either `url` (one broker, credentials in it) or `hosts`
 * (tried in order, `defaultPort` where an entry has none); explicit `username` and `password`
 * win over those of the url.
 *
 * @example
 * const { servers, username } = brokerList({ url: "amqp://ada@rabbit" }, new URL("amqp://ada@rabbit"), 5672);
 */
export function brokerList(
  config: BrokerListConfig,
  url: URL | undefined,
  defaultPort: number,
): BrokerList {
  const servers =
    url === undefined
      ? (config.hosts ?? []).map((entry) => splitHostPort(entry, defaultPort))
      : [hostPort(stripBrackets(url.hostname), Number(url.port || defaultPort))];
  return {
    servers,
    username: config.username ?? (url?.username ? decodeURIComponent(url.username) : undefined),
    password: config.password ?? (url?.password ? decodeURIComponent(url.password) : undefined),
  };
}

/**
 * A zod refinement refusing a config that names both `url` and `hosts`, or neither; the
 * message shows `example` (a url and a host) as what to give.
 *
 * @example
 * z.object(fields).superRefine(requireUrlOrHosts({ url: "mqtt://127.0.0.1:1883", host: "127.0.0.1:1883" }));
 */
export function requireUrlOrHosts(example: {
  readonly url: string;
  readonly host: string;
}): (config: { url?: unknown; hosts?: unknown }, ctx: z.RefinementCtx) => void {
  return (config, ctx) => {
    if (config.url !== undefined && config.hosts !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["hosts"],
        message: "give either url or hosts, not both",
      });
    } else if (config.url === undefined && config.hosts === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: `give url (e.g. "${example.url}") or hosts (e.g. ["${example.host}"])`,
      });
    }
  };
}

// URL.hostname keeps the brackets of an IPv6 literal; sockets want the bare address.
function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
