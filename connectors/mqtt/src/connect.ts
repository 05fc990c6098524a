import type { IClientOptions, IConnackPacket, MqttClient } from "mqtt";
import mqtt from "mqtt";
import {
  brokerList,
  clientTlsOptions,
  closeQuietly,
  connectAdvice,
  firstReachable,
  type HostPort,
  NotConnectedError,
  type SluiceError,
  tlsRefused,
} from "sluice/connector";
import type { ConnectionConfig } from "./connection-config.js";

type Protocol = "mqtt" | "mqtts" | "ws" | "wss";

/** One broker address with the client options needed to connect to it. */
export interface BrokerAddress extends HostPort {
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
  const { servers, username, password } = brokerList(config, fromUrl, defaultPort);
  // mqtts:// and wss:// alone mean TLS with the server's certificate checked, as `tls: true`.
  const secure = protocol === "mqtts" || protocol === "wss";
  const tls = secure ? clientTlsOptions(config.tls === undefined ? true : config.tls) : undefined;
  return servers.map(({ host, port, label }) => ({
    host,
    port,
    label,
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
      ...tls,
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
  const { value, server } = await firstReachable(
    addresses,
    (broker) => connectOne(broker, options, signal, prepare, connect),
    signal,
    "MQTT broker",
  );
  return { ...value, broker: server };
}

/** `openClient` bound to the brokers of one config: what a source or sink connects with. */
export type MqttOpener = (
  options: IClientOptions,
  signal: AbortSignal,
  prepare?: (client: MqttClient, broker: BrokerAddress) => void,
) => Promise<{ client: MqttClient; connack: IConnackPacket; broker: BrokerAddress }>;

/**
 * Reads the brokers of `config` once and returns how to open a client to the first that
 * answers (see `openClient`), with `connect` creating the clients (tests pass fakes).
 *
 * @example
 * const open = clientOpener(config);
 * const { client } = await open({ clientId: "job-1", clean: false }, signal);
 */
export function clientOpener(config: ConnectionConfig, connect?: MqttConnect): MqttOpener {
  const addresses = brokerAddresses(config);
  return (options, signal, prepare) => openClient(addresses, options, signal, prepare, connect);
}

function connectOne(
  broker: BrokerAddress,
  options: IClientOptions,
  signal: AbortSignal,
  prepare: (client: MqttClient, broker: BrokerAddress) => void,
  connect: MqttConnect,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    let client: MqttClient;
    try {
      client = connect({ ...broker.options, ...options });
    } catch (error) {
      // node:tls throws at once for PEM text it cannot load: name the setting, not OpenSSL alone.
      reject(tlsRefused(error, `MQTT broker at ${broker.label}`) ?? error);
      return;
    }
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
  const advice = connectAdvice(error, {
    ...broker,
    at: `MQTT broker at ${broker.label}`,
    resetMeans: "the connection was reset",
    portKind: "an MQTT port (1883, or 8883 with TLS)",
    tlsPort: 8883,
  });
  const tls = tlsRefused(error, `MQTT broker at ${broker.label}`);
  if (tls !== undefined) return tls;
  const network = advice.network();
  if (network !== undefined) return network;
  const { code, reason, where, unreachable, refused } = advice;
  switch (code) {
    case 132:
    case 1:
      return refused("does not accept MQTT 5, which Sluice speaks: upgrade the broker");
    case 133:
    case 2:
      return refused(`rejected the client id "${clientId ?? "(generated)"}": check "clientId"`);
    case 134:
    case 4:
      return refused(
        `refused the user name or password: check "username" and "password" (or those in "url")`,
      );
    case 135:
    case 5:
      return refused(
        // Mosquitto answers a wrong password this way too, not with "bad user name or password".
        `refused the client as not authorized: check "username" and "password" (or those in "url"), and the broker's access rules for this user and client id`,
      );
    case 138:
      return refused("has banned this client");
    case 140:
      return refused("refused the authentication method");
  }
  if (typeof code === "number" && RETRYABLE_REASONS.has(code)) {
    return unreachable(`it refused the connection for now`, "the broker's load and limits");
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
  await closeQuietly(() => client.endAsync(false), END_TIMEOUT_MS);
  if (!client.disconnected) client.end(true);
}
