import { randomUUID } from "node:crypto";
import type { IPublishPacket, MqttClient } from "mqtt";
import { NotConnectedError, SluiceError, validateConfig } from "sluice/connector";
import { brokerAddresses, endQuietly, type MqttConnect, openClient } from "./connect.js";
import { ackSender, HOLD_ACK, holdAcks } from "./held-acks.js";
import { mqttSourceConfig, subscriptionsOf } from "./source-config.js";

/** What `retireSharedMember` did. */
export interface RetiredMember {
  /** The broker that answered, as `host:port`. */
  readonly server: string;
  /** False when the broker had no session under the client id (nothing to hand over). */
  readonly sessionFound: boolean;
  /** Messages the session held, published again to their topics for the rest of the group. */
  readonly republished: number;
}

/** The topic a marker message travels on; the member's client id needs the right to use it. */
export const RETIRE_MARKER_PREFIX = "sluice-retire/";

/**
 * Takes one member of a shared subscription out of its group for good, after its process was
 * stopped gracefully: connects with the member's client id to its persistent session,
 * unsubscribes it (the broker stops picking it), publishes every message the session still held
 * — what came for the member after it stopped reading — again to its topic, where the rest of the
 * group receives it, acknowledges each original only once the broker confirmed its copy, and ends
 * the session. A marker message sent through the session after the unsubscribe tells when
 * everything queued before it has come. `config` is the member's source config (connection
 * fields, `clientId`, `topics`).
 *
 * At least once: interrupted, it is safe to run again (what was not acknowledged is still in the
 * session; what was republished and not acknowledged is published twice). Run it only once the
 * member's process has stopped gracefully: a member that died may hold records in its
 * write-ahead log that only its own restart outputs — restart it, stop it, then retire it.
 *
 * @example
 * await retireSharedMember({ url: "mqtt://broker:1883", clientId: "ingest-3", topics: ["$share/ingest/sensors/#"] });
 */
export async function retireSharedMember(
  config: unknown,
  options: { readonly signal?: AbortSignal; readonly connect?: MqttConnect } = {},
): Promise<RetiredMember> {
  const parsed = validateConfig(mqttSourceConfig, config, "the MQTT member to retire");
  const filters = subscriptionsOf(parsed).map((subscription) => subscription.filter);
  if (!filters.some((filter) => filter.startsWith("$share/"))) {
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `the MQTT member "${parsed.clientId}" subscribes to no shared subscription ("$share/<group>/<filter>" in "topics"): there is no group to hand its messages to`,
    );
  }
  const signal = options.signal ?? new AbortController().signal;
  const marker = `${RETIRE_MARKER_PREFIX}${randomUUID()}`;
  const arrivals = new Arrivals();
  const { client, connack, broker } = await openClient(
    brokerAddresses(parsed),
    {
      clientId: parsed.clientId,
      clean: false,
      // The session ends with this connection.
      properties: { sessionExpiryInterval: 0, receiveMaximum: parsed.receiveMaximum },
      customHandleAcks: holdAcks((_topic, _payload, packet) => arrivals.add(packet)),
    },
    signal,
    (opened) => {
      opened.on("error", (error: Error) => {
        if (error !== HOLD_ACK) arrivals.fail(error);
      });
      opened.on("close", () =>
        arrivals.fail(
          new NotConnectedError(
            `Lost the connection to MQTT broker while retiring "${parsed.clientId}": run it again (nothing unacknowledged is lost; some messages may be published twice)`,
          ),
        ),
      );
    },
    options.connect,
  );
  try {
    if (!connack.sessionPresent) {
      return { server: broker.label, sessionFound: false, republished: 0 };
    }
    const sendAck = ackSender(client);
    await client.unsubscribeAsync(filters);
    await client.subscribeAsync(marker, { qos: 1 });
    await client.publishAsync(marker, "", { qos: 1 });
    const republished = await handOver(client, arrivals, marker, sendAck, signal);
    await client.unsubscribeAsync(marker);
    return { server: broker.label, sessionFound: true, republished };
  } finally {
    await endQuietly(client);
  }
}

// Publishes each held message again and acknowledges the original once its copy is confirmed,
// until the marker has come (everything queued before it has, in order).
async function handOver(
  client: MqttClient,
  arrivals: Arrivals,
  marker: string,
  sendAck: (packetId: number, qos: 1 | 2) => void,
  signal: AbortSignal,
): Promise<number> {
  let republished = 0;
  for (;;) {
    signal.throwIfAborted();
    const packets = arrivals.take();
    if (packets.length === 0) {
      if (arrivals.markerSeen) return republished;
      await arrivals.next(signal);
      continue;
    }
    await Promise.all(
      packets.map(async (packet) => {
        const qos = packet.qos === 2 ? 2 : 1;
        if (packet.topic !== marker) {
          await client.publishAsync(packet.topic, packet.payload as Buffer, {
            qos,
            properties: republishedProperties(packet),
          });
          republished++;
        }
        if (packet.messageId !== undefined) sendAck(packet.messageId, qos);
      }),
    );
    if (packets.some((packet) => packet.topic === marker)) arrivals.markerSeen = true;
  }
}

function republishedProperties(packet: IPublishPacket): IPublishPacket["properties"] {
  const { userProperties, contentType, correlationData, responseTopic, payloadFormatIndicator } =
    packet.properties ?? {};
  return {
    ...(userProperties === undefined ? {} : { userProperties }),
    ...(contentType === undefined ? {} : { contentType }),
    ...(correlationData === undefined ? {} : { correlationData }),
    ...(responseTopic === undefined ? {} : { responseTopic }),
    ...(payloadFormatIndicator === undefined ? {} : { payloadFormatIndicator }),
  };
}

/** The QoS 1/2 messages the session delivers, waiting to be handed over. */
class Arrivals {
  markerSeen = false;
  #packets: IPublishPacket[] = [];
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  add(packet: IPublishPacket): void {
    this.#packets.push(packet);
    this.#wake?.();
  }

  fail(error: Error): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  take(): IPublishPacket[] {
    if (this.#failure !== undefined) throw this.#failure;
    const taken = this.#packets;
    this.#packets = [];
    return taken;
  }

  /** Resolves on the next arrival or failure; rejects when `signal` aborts. */
  next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#wake = undefined;
        signal.removeEventListener("abort", aborted);
        resolve();
      };
      const aborted = (): void => {
        this.#wake = undefined;
        reject(signal.reason);
      };
      this.#wake = done;
      signal.addEventListener("abort", aborted, { once: true });
    });
  }
}
