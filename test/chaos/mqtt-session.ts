// What the MQTT chaos runs share: the job's persistent session made before its first run, so
// what is published while no run is connected waits in the broker for it.
import { connectAsync } from "mqtt";

/**
 * Creates the persistent session of `clientId` at `url`, subscribed to `topic` at QoS 1, and
 * leaves it (the broker keeps it for ten minutes).
 *
 * @example
 * await prepareMqttSession("mqtt://127.0.0.1:1883", "sluice-chaos-job", "sluice/chaos/lines");
 */
export async function prepareMqttSession(
  url: string,
  clientId: string,
  topic: string,
): Promise<void> {
  const session = await connectAsync(url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 600 },
  });
  await session.subscribeAsync(topic, { qos: 1 });
  await session.endAsync();
}
