import { randomUUID } from "node:crypto";
import { validateConfig } from "sluice/connector";
import { brokerAddresses, endQuietly, type MqttConnect, openClient } from "./connect.js";
import { connectionConfig } from "./connection-config.js";

/** What `checkConnection` found. */
export interface MqttConnectionCheck {
  /** The broker that answered, as `host:port`. */
  readonly server: string;
  /** The MQTT protocol version spoken (always 5). */
  readonly protocolVersion: 5;
  /** How long connecting took, until the CONNACK. */
  readonly latencyMs: number;
}

/**
 * Connects with the connection settings of `config` (a source or sink config, or only its
 * connection fields) and a throw-away client id with a clean session, then disconnects.
 * Rejects with a `ConfigValidationError` for a bad config, a `NotConnectedError` naming the
 * broker and what to check when it cannot be reached, or `SLUICE_CONNECTOR_REFUSED` when it
 * refuses the client.
 *
 * @example
 * const { server } = await checkConnection({ url: "mqtt://127.0.0.1:1883" });
 */
export async function checkConnection(
  config: unknown,
  options: { readonly signal?: AbortSignal; readonly connect?: MqttConnect } = {},
): Promise<MqttConnectionCheck> {
  const parsed = validateConfig(connectionConfig, config, "the MQTT connection");
  const started = performance.now();
  const { client, broker } = await openClient(
    brokerAddresses(parsed),
    // Never the job's own client id: connecting with it would push the running job out.
    { clientId: `sluice-check-${randomUUID()}`, clean: true },
    options.signal ?? AbortSignal.timeout(parsed.connectTimeoutMs * 2),
    (client) => {
      client.on("error", () => undefined);
    },
    options.connect,
  );
  const latencyMs = Math.round(performance.now() - started);
  await endQuietly(client);
  return { server: broker.label, protocolVersion: 5, latencyMs };
}
