import { validateConfig } from "sluice/connector";
import { type AmqpConnect, brokerAddresses, closeConnection, openConnection } from "./connect.js";
import { connectionConfig } from "./connection-config.js";

/** What `checkConnection` found. */
export interface RabbitMqConnectionCheck {
  /** The broker that answered, as `host:port`. */
  readonly server: string;
  /** The broker's product and version, as it announced them (e.g. `RabbitMQ 3.10.8`). */
  readonly product: string;
  /** How long connecting and opening a channel took. */
  readonly latencyMs: number;
}

/**
 * Opens a connection and a channel with the connection settings of `config` (a source or sink
 * config, or only its connection fields), then closes them. Rejects with a
 * `ConfigValidationError` for a bad config, a `NotConnectedError` naming the broker and what
 * to check when it cannot be reached, or `SLUICE_CONNECTOR_REFUSED` when it refuses the login.
 *
 * @example
 * const { server, product } = await checkConnection({ url: "amqp://guest:guest@127.0.0.1:5672" });
 */
export async function checkConnection(
  config: unknown,
  options: { readonly signal?: AbortSignal; readonly connect?: AmqpConnect } = {},
): Promise<RabbitMqConnectionCheck> {
  const parsed = validateConfig(connectionConfig, config, "the RabbitMQ connection");
  const started = performance.now();
  const { connection, broker } = await openConnection(
    brokerAddresses(parsed, "sluice connection check"),
    options.signal ?? AbortSignal.timeout(parsed.connectTimeoutMs * 2),
    options.connect,
  );
  try {
    connection.on("error", () => undefined);
    const channel = await connection.createChannel();
    await channel.close();
    const properties = connection.connection.serverProperties;
    return {
      server: broker.label,
      product: `${properties.product ?? "AMQP broker"} ${properties.version ?? ""}`.trim(),
      latencyMs: Math.round(performance.now() - started),
    };
  } finally {
    await closeConnection(connection);
  }
}
