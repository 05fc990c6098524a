import type { IClientOptions, IConnackPacket, MqttClient } from "mqtt";
import mqtt from "mqtt";
import { NotConnectedError, SluiceError } from "sluice";
import type { ConnectionConfig } from "./connection-config.js";

type Protocol = "mqtt" | "mqtts" | "ws" | "wss";

/** One broker address with the client options needed to connect to it. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as messages show it. */
  readonly label: string;
  readonly options: IClientOptions;
}

/** Creates an mqtt.js client (which starts connecting); the default is mqtt.js's `connect`. */
export type MqttConnect = (options: IClientOptions) => MqttClient;

const defaultConnect: MqttConnect = (options) => mqtt.connect(options);
const END_TIMEOUT_MS = 5_000;

/**
 * The brokers a config names, in the order they are tried, with credentials, keep-alive and
 * TLS applied. Every client speaks MQTT 5 and never reconnects on its own: Sluice does, with
 * backoff, through the connector contract.
 *
 * @example
 * const [first] = brokerAddresses({ hosts: ["127.0.0.1:1883"], keepaliveSeconds: 30, connectTimeoutMs: 5000 });
 */
export function brokerAddresses(config: ConnectionConfig): BrokerAddress[] {
  const fromUrl = config.url === undefined ? undefined : new URL(config.url);
  const urlProtocol = fromUrl?.protocol.slice(0, -1) as Protocol | undefined;
  const tlsWanted = config.tls !== undefined && config.tls !== false;
  const protocol: Protocol =
    urlProtocol === undefined
      ? tlsWanted
        ? "mqtts"
        : "mqtt"
      : tlsWanted && urlProtocol === "mqtt"
        ? "mqtts"
        : tlsWanted && urlProtocol === "ws"
          ? "wss"
          : urlProtocol;
  const defaultPort = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 }[protocol];
  const servers =
    fromUrl === undefined
      ? (config.hosts ?? []).map((entry) => splitHostPort(entry, defaultPort))
      : [{ host: stripBrackets(fromUrl.hostname), port: Number(fromUrl.port || defaultPort) }];
  const username =
    config.username ?? (fromUrl?.username ? decodeURIComponent(fromUrl.username) : undefined);
  const password =
    config.password ?? (fromUrl?.password ? decodeURIComponent(fromUrl.password) : undefined);
  const tls = typeof config.tls === "object" ? config.tls : {};
  return servers.map(({ host, port }) => ({
    host,
    port,
    label: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    options: {
      protocol,
      host,
      port,
      ...(fromUrl !== undefined && (protocol === "ws" || protocol === "wss")
        ? { path: fromUrl.pathname || "/mqtt" }
        : {}),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      protocolVersion: 5,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      ...(protocol === "mqtts" || protocol === "wss" ? tls : {}),
    },
  }));
}

/**
 * Connects to the first broker that answers with a successful CONNACK. `prepare` runs on each
 * client right after it is created, before any packet arrives (attach listeners there). A
 * broker that cannot be reached is a `NotConnectedError`; a refusal (credentials, client id,
 * TLS) is `SLUICE_CONNECTOR_REFUSED`; both name the broker and what to check.
 *
 * @example
 * const { client, connack, broker } = await openClient(addresses, { clientId: "job-1", clean: false }, signal);
 */
export async function openClient(
  addresses: readonly BrokerAddress[],
  options: IClientOptions,
  signal: AbortSignal,
  prepare: (client: MqttClient, broker: BrokerAddress) => void = () => undefined,
  connect: MqttConnect = defaultConnect,
): Promise<{ client: MqttClient; connack: IConnackPacket; broker: BrokerAddress }> {
  const failures: NotConnectedError[] = [];
  for (const broker of addresses) {
    signal.throwIfAborted();
    try {
      const { client, connack } = await connectOne(broker, options, signal, prepare, connect);
      return { client, connack, broker };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof NotConnectedError)) throw error;
      failures.push(error);
    }
  }
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0];
  throw new NotConnectedError(
    `Cannot reach any MQTT broker (${failures.length} tried):\n${failures.map((failure) => `  - ${failure.message}`).join("\n")}`,
    { cause: new AggregateError(failures.map((failure) => failure.cause)) },
  );
}

function connectOne(
  broker: BrokerAddress,
  options: IClientOptions,
  signal: AbortSignal,
  prepare: (client: MqttClient, broker: BrokerAddress) => void,
  connect: MqttConnect,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = connect({ ...broker.options, ...options });
    let failure: unknown;
    const fail = (error: unknown): void => {
      cleanup();
      // mqtt.js may still emit errors while it tears down; an unheard 'error' would crash.
      client.on("error", () => undefined);
      client.end(true);
      reject(error);
    };
    const onConnect = (connack: IConnackPacket): void => {
      cleanup();
      resolve({ client, connack });
    };
    const onError = (error: Error): void => {
      failure ??= error;
      // A refusal is final; a network error is followed by 'close', which settles.
      const explained = explainConnectError(error, broker, options.clientId);
      if (!(explained instanceof NotConnectedError)) fail(explained);
    };
    const onClose = (): void =>
      fail(
        failure === undefined
          ? new NotConnectedError(
              `Cannot reach MQTT broker at ${broker.label}: the connection closed before the broker answered. Check that it is running and listening on ${broker.label} (config "url" or "hosts").`,
            )
          : explainConnectError(failure, broker, options.clientId),
      );
    const onAbort = (): void => fail(signal.reason);
    const cleanup = (): void => {
      client.off("connect", onConnect);
      client.off("error", onError);
      client.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
    };
    prepare(client, broker);
    client.on("connect", onConnect);
    client.on("error", onError);
    client.on("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const RETRYABLE_REASONS = new Set([136, 137, 139, 151, 156, 157, 159]);

/**
 * Turns an error of mqtt.js while connecting into a Sluice error naming the broker and what
 * to check.
 *
 * @example
 * throw explainConnectError(error, broker, "job-1");
 */
export function explainConnectError(
  error: unknown,
  broker: BrokerAddress,
  clientId?: string,
): SluiceError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const at = `MQTT broker at ${broker.label}`;
  const where = `that the broker is running and listening on ${broker.label} (config "url" or "hosts")`;
  const unreachable = (what: string, check: string) =>
    new NotConnectedError(`Cannot reach ${at}: ${what} (${reason}). Check ${check}.`, {
      cause: error,
    });
  const refused = (what: string) =>
    new SluiceError("SLUICE_CONNECTOR_REFUSED", `${at} ${what} (${reason})`, { cause: error });
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
        "the connection was reset",
        `${where}, that ${broker.port} is an MQTT port (1883, or 8883 with TLS), and the TLS settings`,
      );
    case 132:
    case 1:
      return refused("does not accept MQTT 5, which Sluice speaks: upgrade the broker");
    case 133:
    case 2:
      return refused(`rejected the client id "${clientId ?? "(generated)"}": check "clientId"`);
    case 134:
    case 4:
      return refused(`refused the user name or password: check "username" and "password"`);
    case 135:
    case 5:
      return refused(
        `refused the client as not authorized: check the broker's access rules for this user and client id`,
      );
    case 138:
      return refused("has banned this client");
    case 140:
      return refused("refused the authentication method");
  }
  if (typeof code === "number" && RETRYABLE_REASONS.has(code)) {
    return unreachable(`it refused the connection for now`, "the broker's load and limits");
  }
  if (
    typeof code === "string" &&
    /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)
  ) {
    return refused(
      'failed the TLS handshake: check "tls" (ca, servername, certificates) and that the port speaks TLS (usually 8883)',
    );
  }
  if (/connack timeout|timed? ?out/i.test(reason)) {
    return unreachable("no CONNACK in time", `${where}, and "connectTimeoutMs"`);
  }
  if (/Invalid header|Malformed|Protocol error|Invalid .* packet|unknown command/i.test(reason)) {
    return refused(
      `answered with something that is not MQTT: check that ${broker.port} is the broker's MQTT port (1883, or 8883 with TLS)`,
    );
  }
  if (typeof code === "number") return refused(`refused the connection`);
  return unreachable("the connection failed", where);
}

/**
 * Ends a client: a DISCONNECT when it is connected (the broker keeps a persistent session),
 * forced after a few seconds or at once when it is not.
 *
 * @example
 * await endQuietly(client);
 */
export async function endQuietly(client: MqttClient): Promise<void> {
  if (!client.connected) {
    client.end(true);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.endAsync(false).catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, END_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!client.disconnected) client.end(true);
}

function splitHostPort(entry: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? "", port: Number(bracketed[2] ?? defaultPort) };
  const [host = "", port] = entry.split(":");
  return { host, port: port === undefined ? defaultPort : Number(port) };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
