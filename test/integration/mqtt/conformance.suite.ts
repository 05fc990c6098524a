// The SDK's conformance kit against the real broker, for the MQTT source and sink.
import { randomUUID } from "node:crypto";
import type { MqttClient } from "mqtt";
import { describeSinkConformance, describeSourceConformance } from "sluice/testing/conformance";
import { afterAll, beforeAll, describe } from "vitest";
import { MqttSink, mqttSink, mqttSource } from "../../../connectors/mqtt/src/index.js";
import { BROKER_URL, client, collect, publish, takeOver, uniqueName } from "./broker.js";

const encoder = new TextEncoder();
// Mosquitto here lets anyone in, whatever the credentials: a password only to check it is never shown.
const PASSWORD = `pw-${randomUUID()}`;

let publisher: MqttClient;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt conformance", () => {
  beforeAll(async () => {
    publisher = await client();
  });

  afterAll(async () => {
    // Disconnected already when a later suite restarted the broker.
    await publisher?.endAsync(true).catch(() => undefined);
  });

  /** Ends the session the broker keeps for `clientId`. */
  async function forgetSession(clientId: string): Promise<void> {
    const cleaner = await client({
      clientId,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    });
    await cleaner.endAsync();
  }

  describeSourceConformance(
    "mqtt source",
    (testCase) => {
      const topic = `sluice/conformance/${uniqueName(testCase)}`;
      const clientId = uniqueName("sluice-conformance-source");
      return {
        plugin: mqttSource,
        config: {
          url: BROKER_URL,
          username: "sluice",
          password: PASSWORD,
          clientId,
          topics: [topic],
          qos: 1,
          sessionExpirySeconds: 600,
        },
        secretValues: [PASSWORD],
        produce: (values) => publish(publisher, topic, values, 1),
        // A takeover with the same client id makes the broker disconnect the source; the source
        // must report the lost connection (the kit checks it did).
        dropConnections: () => takeOver(clientId),
        cleanup: () => forgetSession(clientId),
      };
    },
    {
      invalidConfig: {
        config: {
          url: "http://127.0.0.1",
          password: "never-shown-password",
          clientId: "x",
          topics: ["sensors/#/temp"],
          qos: 3,
        },
        paths: ["url", "topics[0]", "qos"],
        secrets: ["never-shown-password"],
      },
      notApplicable: {
        endOfInput: "a subscription has no end: the source receives until the job stops",
        seek: "a subscription is not replayable",
        ackAfterOutput:
          "the broker does not tell a session's unacknowledged (in-flight) QoS 1 messages; an acknowledgement at read shows in the restart case, where the persistent session must send them again",
      },
    },
  );

  describeSinkConformance(
    "mqtt sink",
    async (testCase) => {
      const base = `sluice/conformance/${uniqueName(testCase)}`;
      const clientId = uniqueName("sluice-conformance-sink");
      const collector = await collect(`${base}/#`, 1);
      let markers = 0;
      return {
        plugin: mqttSink,
        config: {
          url: `mqtt://sluice:${PASSWORD}@127.0.0.1:1883`,
          clientId,
          topic: `${base}/out`,
          qos: 1,
        },
        secretValues: [PASSWORD],
        // A marker published after the sink's confirmed writes arrives after them.
        readBack: async () => {
          const marker = `marker-${markers++}`;
          await publish(publisher, `${base}/marker`, [marker], 1);
          await collector.until(`${base}/marker`, marker);
          return collector.messages
            .filter((message) => message.topic === `${base}/out`)
            .map((message) => encoder.encode(message.text));
        },
        dropConnections: () => takeOver(clientId, { clean: true }),
        lostConnections: (sink) => {
          if (!(sink instanceof MqttSink)) throw new Error("expected the MQTT sink");
          return sink.metrics.connectionLosses;
        },
        cleanup: () => collector.close(),
      };
    },
    {
      invalidConfig: {
        config: {
          hosts: ["127.0.0.1:1883"],
          password: "never-shown-either",
          topic: "sensors/+/out",
          qos: 5,
        },
        paths: ["topic", "qos"],
        secrets: ["never-shown-either"],
      },
    },
  );
});
