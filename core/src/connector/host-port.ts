/**
 * A `"host"` or `"host:port"` entry of a connector's host list (IPv6 literals in brackets): the
 * pattern every broker connector validates `hosts` with.
 *
 * @example
 * z.array(z.string().regex(HOST_PORT, 'must be "host" or "host:port"'));
 */
export const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/;

/**
 * A `"host:port"` entry whose port is required (Kafka's bootstrap brokers have no default port).
 *
 * @example
 * z.array(z.string().regex(HOST_AND_PORT, 'must be "host:port"'));
 */
export const HOST_AND_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/;

/** A host with its port, and the label messages show for it. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  /** `host:port`, with an IPv6 host in brackets. */
  readonly label: string;
}

/**
 * Splits a `"host"`, `"host:port"` or `"[v6]:port"` entry, taking `defaultPort` when it has none.
 *
 * @example
 * splitHostPort("[::1]:5672", 5671); // { host: "::1", port: 5672, label: "[::1]:5672" }
 */
export function splitHostPort(entry: string, defaultPort: number): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return hostPort(bracketed[1] ?? "", Number(bracketed[2] ?? defaultPort));
  const [host = "", port] = entry.split(":");
  return hostPort(host, port === undefined ? defaultPort : Number(port));
}

/**
 * A host and port with their label; an IPv6 host gets brackets in the label only.
 *
 * @example
 * hostPort("::1", 1883).label; // "[::1]:1883"
 */
export function hostPort(host: string, port: number): HostPort {
  return { host, port, label: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}
