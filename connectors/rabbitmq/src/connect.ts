import type { ChannelModel, Options, SocketOptions } from "amqplib";
import amqp from "amqplib";
import {
  brokerList,
  type ConnectionLink,
  type ConnectSteps,
  clientTlsOptions,
  closeQuietly,
  connectAdvice,
  firstReachable,
  type HostPort,
  openAbortably,
  type SluiceError,
  tlsRefused,
} from "sluice/connector";
import type { ConnectionConfig } from "./connection-config.js";

/** One broker address with everything needed to open a connection to it. */
export interface BrokerAddress extends HostPort {
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
  const fromList = brokerList(config, fromUrl, defaultPort);
  const username = fromList.username ?? "guest";
  const password = fromList.password ?? "guest";
  const vhost = config.vhost ?? vhostOf(fromUrl);
  // amqps:// alone means TLS with the server's certificate checked, as `tls: true` does.
  const tls = secure ? clientTlsOptions(config.tls === undefined ? true : config.tls) : undefined;
  return fromList.servers.map(({ host, port, label }) => ({
    host,
    port,
    label,
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
      ...tls,
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
  const { value, server } = await firstReachable(
    addresses,
    (broker) =>
      openAbortably(connect(broker.options, broker.socketOptions), signal, (late) =>
        late.close(),
      ).catch((error: unknown) => {
        throw explainConnectError(error, broker);
      }),
    signal,
    "RabbitMQ broker",
  );
  return { connection: value, broker: server };
}

/** `openConnection` bound to the brokers of one config: what a source or sink connects with. */
export type AmqpOpener = (
  signal: AbortSignal,
) => Promise<{ connection: ChannelModel; broker: BrokerAddress }>;

/**
 * Reads the brokers of `config` once and returns how to open a connection to the first that
 * answers (see `openConnection`), named `connectionName` unless the config names it, with
 * `connect` opening the connections (tests pass fakes).
 *
 * @example
 * const open = connectionOpener(config, "sluice source:rabbitmq#1");
 * const { connection, broker } = await open(signal);
 */
export function connectionOpener(
  config: ConnectionConfig,
  connectionName: string,
  connect?: AmqpConnect,
): AmqpOpener {
  const addresses = brokerAddresses(config, connectionName);
  return (signal) => openConnection(addresses, signal, connect);
}

/**
 * The steps `ConnectionSlot.connect` takes for a RabbitMQ source or sink: open a connection to
 * the first broker that answers, set it up with `setUp` (channels, declarations), and close it
 * again when the set-up fails or is abandoned.
 *
 * @example
 * const link = await slot.connect(signal, amqpConnectSteps(open, signal, (connection, broker) => setUp(connection, broker)));
 */
export function amqpConnectSteps<L extends ConnectionLink>(
  open: AmqpOpener,
  signal: AbortSignal,
  setUp: (connection: ChannelModel, broker: BrokerAddress) => Promise<L>,
): ConnectSteps<{ connection: ChannelModel; broker: BrokerAddress }, L> {
  return {
    open: () => open(signal),
    setUp: ({ connection, broker }) => setUp(connection, broker),
    discard: ({ connection }) => closeConnection(connection),
  };
}

/**
 * Turns an error of amqplib's `connect` into a Sluice error naming the broker and what to check.
 *
 * @example
 * throw explainConnectError(error, broker);
 */
export function explainConnectError(error: unknown, broker: BrokerAddress): SluiceError {
  const advice = connectAdvice(error, {
    ...broker,
    at: `RabbitMQ at ${broker.label}`,
    resetMeans: "the connection was closed during the handshake",
    portKind: "an AMQP 0-9-1 port (5672, or 5671 with TLS)",
    tlsPort: 5671,
  });
  const tls = tlsRefused(error, `RabbitMQ at ${broker.label}`);
  if (tls !== undefined) return tls;
  const network = advice.network();
  if (network !== undefined) return network;
  const { reason, where, unreachable, refused } = advice;
  if (/ACCESS.REFUSED|\b403\b/.test(reason)) {
    return refused(
      `refused the login of user "${String(broker.options.username)}": check "username" and "password" (or the user and password in "url")`,
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

// amqp://host and amqp://host/ both mean the default vhost "/"; amqp://host/%2f too.
function vhostOf(url: URL | undefined): string {
  const path = url?.pathname ?? "";
  if (path === "" || path === "/") return "/";
  return decodeURIComponent(path.slice(1));
}

/**
 * Closes a connection (its `channel` first, when given), giving up after a few seconds on a
 * broker that does not answer, and then destroying its socket. Closing the channel first
 * matters: the broker handles a channel's frames in order, so its close-ok proves the acks sent
 * before it were processed, whereas closing only the connection may drop acks still queued in
 * the broker.
 *
 * @example
 * await closeConnection(connection, channel);
 */
export async function closeConnection(
  connection: ChannelModel,
  channel?: { close(): Promise<void> },
): Promise<void> {
  let ended = false;
  await closeQuietly(async () => {
    await channel?.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    ended = true;
  }, CLOSE_TIMEOUT_MS);
  // amqplib waits for the broker's close-ok without a limit, its socket open meanwhile: a broker
  // that never answers (gone silent, heartbeats off) would keep it, and the process, alive.
  if (!ended) socketOf(connection)?.destroy();
}

/** The socket under an amqplib connection (not in its types: `connection.stream`). */
function socketOf(connection: ChannelModel): { destroy(): void } | undefined {
  const stream = (connection.connection as unknown as { stream?: unknown }).stream;
  const destroy = (stream as { destroy?: unknown } | undefined)?.destroy;
  return typeof destroy === "function" ? (stream as { destroy(): void }) : undefined;
}
