// Publishes and receives one message on the local Mosquitto broker
// (scripts/services/start mosquitto).

import type { MqttClient } from "mqtt";
import { connectAsync } from "mqtt";
import { describe, expect, it } from "vitest";
import { deferred, SMOKE_TIMEOUT_MS, serverMissing, uniqueName, within } from "./helpers.js";

const URL = "mqtt://127.0.0.1:1883";

describe("mqtt smoke", () => {
  it(
    "publishes at QoS 1 to a new topic and receives the message",
    async () => {
      const topic = `sluice/${uniqueName("smoke")}`;
      let client: MqttClient;
      try {
        client = await connectAsync(
          URL,
          { clientId: uniqueName("sluice-smoke"), connectTimeout: 5_000, reconnectPeriod: 0 },
          false,
        );
      } catch (err) {
        throw serverMissing("mosquitto", "127.0.0.1:1883", err);
      }
      try {
        const received = deferred<{ payload: string; qos: number }>();
        client.on("message", (t, payload, packet) => {
          if (t === topic) received.resolve({ payload: payload.toString(), qos: packet.qos });
        });
        const granted = await client.subscribeAsync(topic, { qos: 1 });
        expect(granted.map((g) => g.qos)).toEqual([1]);

        const payload = `hello ${topic}`;
        await client.publishAsync(topic, payload, { qos: 1 });
        const got = await within(10_000, `receiving on ${topic}`, received.promise);
        expect(got).toEqual({ payload, qos: 1 });
      } finally {
        await client.endAsync();
      }
    },
    SMOKE_TIMEOUT_MS,
  );
});
