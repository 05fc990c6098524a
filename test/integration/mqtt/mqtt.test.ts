// Every MQTT integration suite, in one file so that they run one after another: the
// server-loss suite stops and restarts the broker, which the others must not see.
// Needs the local broker: scripts/services/start mosquitto
import { beforeAll } from "vitest";
import { client } from "./broker.js";

beforeAll(async () => {
  // Fails loudly, naming the start command, when the broker is not running.
  await (await client()).endAsync();
});

await import("./conformance.suite.js");
await import("./behaviour.suite.js");
await import("./errors.suite.js");
await import("./end-to-end.suite.js");
await import("./iot-ingest.suite.js");
await import("./refused-publishes.suite.js");
await import("./server-loss.suite.js");
