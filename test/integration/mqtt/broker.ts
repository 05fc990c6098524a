// The local Mosquitto of scripts/services (127.0.0.1:1883) as the integration tests use it:
// a publisher, a collecting subscriber, a session takeover to drop a client's connection
// server side, and stop/start of the broker for the server-loss test.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { connectAsync } from "mqtt";

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL("../../../scripts/services/", import.meta.url));

export const HOST = "127.0.0.1";
export const PORT = 1883;
export const BROKER_URL = `mqtt://${HOST}:${PORT}`;

const decoder = new TextDecoder();

/** A name no earlier run used, for topics and client ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Runs scripts/services/<command> for Mosquitto only (others share the other servers). */
export async function services(command: "start" | "stop"): Promise<void> {
  await run(`${SERVICES}${command}`, ["mosquitto"], { timeout: 60_000 });
}

/**
 * Connects a plain MQTT 5 client, or fails naming the command that starts the broker: the
 * integration tests never skip.
 */
export async function client(options: IClientOptions = {}): Promise<MqttClient> {
  try {
    const connected = await connectAsync(
      BROKER_URL,
      {
        protocolVersion: 5,
        clientId: uniqueName("sluice-test"),
        connectTimeout: 5_000,
        reconnectPeriod: 0,
        ...options,
      },
      false,
    );
    connected.on("error", () => undefined);
    return connected;
  } catch (error) {
    throw new Error(
      `Mosquitto is not answering on ${HOST}:${PORT} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start mosquitto`,
      { cause: error },
    );
  }
}

/** Publishes `values` to `topic` one after another at `qos`, each confirmed by the broker. */
export async function publish(
  publisher: MqttClient,
  topic: string,
  values: readonly (Uint8Array | string)[],
  qos: 0 | 1 | 2 = 1,
): Promise<void> {
  for (const value of values) {
    await publisher.publishAsync(topic, typeof value === "string" ? value : Buffer.from(value), {
      qos,
    });
  }
}

/**
 * Drops `clientId`'s connection server side: a second client takes its session over (MQTT
 * 5 reason 0x8E), holding every acknowledgement so that the session keeps its messages, and
 * leaves at once.
 */
export async function takeOver(
  clientId: string,
  { clean = false, sessionExpirySeconds = 600 } = {},
): Promise<void> {
  const intruder = await client({
    clientId,
    clean,
    properties: { sessionExpiryInterval: clean ? 0 : sessionExpirySeconds },
    customHandleAcks: (_topic, _message, _packet, done) => done(new Error("held")),
  });
  intruder.end(true);
}

/** A subscriber that keeps what arrives, in order. */
export interface Collector {
  readonly messages: { topic: string; text: string; packet: IPublishPacket }[];
  /** Waits until a message arrived on `topic` whose text is `text`. */
  until(topic: string, text: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to `filter` at `qos` and collects every message. */
export async function collect(filter: string, qos: 0 | 1 | 2 = 1): Promise<Collector> {
  const subscriber = await client();
  const messages: Collector["messages"] = [];
  const waiters = new Set<() => void>();
  subscriber.on("message", (topic, payload, packet) => {
    messages.push({ topic, text: decoder.decode(payload), packet });
    for (const wake of waiters) wake();
  });
  await subscriber.subscribeAsync(filter, { qos });
  const arrived = (topic: string, text: string) =>
    messages.some((message) => message.topic === topic && message.text === text);
  return {
    messages,
    // Only stops a wait that hangs: a loaded broker can take seconds to deliver.
    until: (topic, text, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          if (!arrived(topic, text)) return;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`nothing "${text}" on ${topic} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(wake);
        wake();
      }),
    close: () => subscriber.endAsync(),
  };
}

/** Text of a record value or key. */
export function text(value: Uint8Array | undefined): string {
  return value === undefined ? "" : decoder.decode(value);
}
