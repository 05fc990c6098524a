import type { ChannelModel, Options, SocketOptions } from "amqplib";
import amqp from "amqplib";
import { NotConnectedError, SluiceError } from "sluice";
import type { ConnectionConfig } from "./connection-config.js";

/** One broker address with everything needed to open a connection to it. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as messages show it. */
  readonly label: string;
  readonly options: Options.Connect;
  readonly socketOptions: SocketOptions;
}

/** Opens an AMQP connection; the default is amqplib's `connect`. Tests pass fakes. */
export type AmqpConnect = (
  options: Options.Connect,
  socketOptions: SocketOptions,
) => Promise<ChannelModel>;

const CLOSE_TIMEOUT_MS = 5_000;

const defaultConnect: AmqpConnect = (options, socketOptions) =>
  amqp.connect(options, socketOptions);

/**
 * The brokers a config names, in the order they are tried, with credentials, vhost, heartbeat
 * and TLS applied.
 *
 * @example
 * const [first] = brokerAddresses({ hosts: ["127.0.0.1:5672"], heartbeatSeconds: 30, connectTimeoutMs: 5000 }, "sluice");
 */
export function brokerAddresses(config: ConnectionConfig, connectionName: string): BrokerAddress[] {
  const fromUrl = config.url === undefined ? undefined : new URL(config.url);
  const secure =
    fromUrl?.protocol === "amqps:" || (config.tls !== undefined && config.tls !== false);
  const defaultPort = secure ? 5671 : 5672;
  const servers =
    fromUrl === undefined
      ? (config.hosts ?? []).map((entry) => splitHostPort(entry, defaultPort))
      : [{ host: stripBrackets(fromUrl.hostname), port: Number(fromUrl.port || defaultPort) }];
  const username =
    config.username ?? (fromUrl?.username ? decodeURIComponent(fromUrl.username) : "guest");
  const password =
    config.password ?? (fromUrl?.password ? decodeURIComponent(fromUrl.password) : "guest");
  const vhost = config.vhost ?? vhostOf(fromUrl);
  const tls = typeof config.tls === "object" ? config.tls : {};
  return servers.map(({ host, port }) => ({
    host,
    port,
    label: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    options: {
      protocol: secure ? "amqps" : "amqp",
      hostname: host,
      port,
      username,
      password,
      vhost,
      heartbeat: config.heartbeatSeconds,
    },
    socketOptions: {
      timeout: config.connectTimeoutMs,
      clientProperties: { connection_name: config.connectionName ?? connectionName },
      ...(secure ? tls : {}),
    },
  }));
}

/**
 * Opens a connection to the first broker of the config that answers. A broker that cannot be
 * reached is a `NotConnectedError` (Sluice retries); a refusal (credentials, vhost, TLS) is a
 * `SluiceError` with code `SLUICE_CONNECTOR_REFUSED`. Both messages name the broker and what
 * to check.
 *
 * @example
 * const { connection, broker } = await openConnection(addresses, signal);
 */
export async function openConnection(
  addresses: readonly BrokerAddress[],
  signal: AbortSignal,
  connect: AmqpConnect = defaultConnect,
): Promise<{ connection: ChannelModel; broker: BrokerAddress }> {
  const failures: NotConnectedError[] = [];
  for (const broker of addresses) {
    signal.throwIfAborted();
    try {
      const connection = await abortable(connect(broker.options, broker.socketOptions), signal);
      return { connection, broker };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const explained = explainConnectError(error, broker);
      if (!(explained instanceof NotConnectedError)) throw explained;
      failures.push(explained);
    }
  }
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0];
  throw new NotConnectedError(
    `Cannot reach any RabbitMQ broker (${failures.length} tried):\n${failures.map((failure) => `  - ${failure.message}`).join("\n")}`,
    { cause: new AggregateError(failures.map((failure) => failure.cause)) },
  );
}

/**
 * Turns an error of amqplib's `connect` into a Sluice error naming the broker and what to check.
 *
 * @example
 * throw explainConnectError(error, broker);
 */
export function explainConnectError(error: unknown, broker: BrokerAddress): SluiceError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const at = `RabbitMQ at ${broker.label}`;
  const unreachable = (what: string, check: string) =>
    new NotConnectedError(`Cannot reach ${at}: ${what} (${reason}). Check ${check}.`, {
      cause: error,
    });
  const refused = (what: string) =>
    new SluiceError("SLUICE_CONNECTOR_REFUSED", `${at} ${what} (${reason})`, { cause: error });
  const where = `that the broker is running and listening on ${broker.label} (config "url" or "hosts")`;
  switch (code) {
    case "ECONNREFUSED":
      return unreachable("connection refused", `${where}, and that no firewall blocks the port`);
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return unreachable("no answer", `${where}, and the network path to it`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return unreachable(`the host name "${broker.host}" does not resolve`, "the host name");
    case "ECONNRESET":
    case "EPIPE":
      return unreachable(
        "the connection was closed during the handshake",
        `${where}, that ${broker.port} is an AMQP 0-9-1 port (5672, or 5671 with TLS), and the TLS settings`,
      );
  }
  if (
    typeof code === "string" &&
    /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)
  ) {
    return refused(
      'failed the TLS handshake: check "tls" (ca, servername, certificates) and that the port speaks TLS (usually 5671)',
    );
  }
  if (/ACCESS.REFUSED|\b403\b/.test(reason)) {
    return refused(
      `refused the login of user "${String(broker.options.username)}": check "username" and "password"`,
    );
  }
  if (/ConnectionClose|NOT.ALLOWED|\b530\b/.test(reason)) {
    return refused(
      `refused to open the virtual host "${String(broker.options.vhost)}": check "vhost" and that the user has permissions on it`,
    );
  }
  if (/timeout|timed out/i.test(reason)) {
    return unreachable("no answer in time", `${where}, and "connectTimeoutMs"`);
  }
  if (/Frame size|Unexpected|Expected/i.test(reason)) {
    return refused(
      `answered with something that is not AMQP 0-9-1: check that ${broker.port} is RabbitMQ's AMQP port (5672, or 5671 with TLS)`,
    );
  }
  return unreachable("the connection failed", `${where}`);
}

/** Resolves like `promise`, or rejects with the signal's reason; a late connection is closed. */
function abortable(promise: Promise<ChannelModel>, signal: AbortSignal): Promise<ChannelModel> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      promise.then((late) => late.close()).catch(() => undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (connection) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) return;
        resolve(connection);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function splitHostPort(entry: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    return { host: bracketed[1] ?? "", port: Number(bracketed[2] ?? defaultPort) };
  }
  const [host = "", port] = entry.split(":");
  return { host, port: port === undefined ? defaultPort : Number(port) };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

// amqp://host and amqp://host/ both mean the default vhost "/"; amqp://host/%2f too.
function vhostOf(url: URL | undefined): string {
  const path = url?.pathname ?? "";
  if (path === "" || path === "/") return "/";
  return decodeURIComponent(path.slice(1));
}

/**
 * Closes a connection (its `channel` first, when given), giving up after a few seconds on a
 * broker that does not answer. Closing the channel first matters: the broker handles a
 * channel's frames in order, so its close-ok proves the acks sent before it were processed,
 * whereas closing only the connection may drop acks still queued in the broker.
 *
 * @example
 * await closeQuietly(connection, channel);
 */
export async function closeQuietly(
  connection: ChannelModel,
  channel?: { close(): Promise<void> },
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closing = (async () => {
    await channel?.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  })();
  await Promise.race([
    closing,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}
