// The MQTT side of the broker group tests: members' sessions made ahead, a publisher of messages
// with unique ids, sessions forgotten afterwards.
import mqtt, { connectAsync, type IConnackPacket, type MqttClient } from "mqtt";
import { EVENT_ID_PROPERTY } from "./broker-member-settings.js";

/** The local Mosquitto of scripts/services (anonymous listener). */
export const MQTT_URL = "mqtt://127.0.0.1:1883";

/**
 * Makes each member's persistent session with the shared subscription before any member runs, so
 * that no message is published before the group exists: the broker then queues each message in
 * the session it picks, whether its member is connected yet or not.
 */
export async function prepareSharedSessions(
  clientIds: readonly string[],
  filter: string,
): Promise<void> {
  for (const clientId of clientIds) {
    const client = await connectAsync(MQTT_URL, {
      clientId,
      clean: false,
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 600 },
    });
    await client.subscribeAsync(filter, { qos: 1 });
    await client.endAsync();
  }
}

/** Ends the members' sessions (a clean start with no expiry), so the broker keeps nothing. */
export async function forgetSessions(clientIds: readonly string[]): Promise<void> {
  for (const clientId of clientIds) {
    const client = await connectAsync(MQTT_URL, {
      clientId,
      clean: true,
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 0 },
    });
    await client.endAsync();
  }
}

/** True when the broker has a session under `clientId` (the probe itself leaves none). */
export async function hasSession(clientId: string): Promise<boolean> {
  const client = mqtt.connect(MQTT_URL, {
    clientId,
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
  });
  try {
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("error", reject);
    });
    return connack.sessionPresent;
  } finally {
    await client.endAsync();
  }
}

/** A QoS 1 publisher. */
export async function publisher(): Promise<MqttClient> {
  return connectAsync(MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
}

/**
 * Publishes one QoS 1 message per id (the id as payload and as the `event-id` user property),
 * a window of them at a time; resolves once the broker acknowledged every one.
 */
export async function publishEvents(
  client: MqttClient,
  topic: string,
  ids: readonly string[],
  window = 500,
): Promise<void> {
  for (let start = 0; start < ids.length; start += window) {
    await Promise.all(
      ids.slice(start, start + window).map((id) =>
        client.publishAsync(topic, id, {
          qos: 1,
          properties: { userProperties: { [EVENT_ID_PROPERTY]: id } },
        }),
      ),
    );
  }
}
