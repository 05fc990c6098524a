// The SDK's conformance kit against the real broker, for the MQTT source.
import { randomUUID } from "node:crypto";
import type { MqttClient } from "mqtt";
import { describeSourceConformance } from "sluice/testing";
import { afterAll, beforeAll } from "vitest";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import { BROKER_URL, client, publish, takeOver, uniqueName } from "./broker.js";

// Mosquitto here lets anyone in, whatever the credentials: a password only to check it is never shown.
const PASSWORD = `pw-${randomUUID()}`;

let publisher: MqttClient;

beforeAll(async () => {
  publisher = await client();
});

afterAll(async () => {
  await publisher?.endAsync();
});

/** Ends the session the broker keeps for `clientId`. */
async function forgetSession(clientId: string): Promise<void> {
  const cleaner = await client({ clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
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
    },
  },
);
