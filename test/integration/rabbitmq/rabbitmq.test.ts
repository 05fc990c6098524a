// Every RabbitMQ integration suite, in one file so that they run one after another: the
// server-loss suite stops and restarts the broker, which the others must not see.
// Needs the local broker: scripts/services/start rabbitmq
import { beforeAll } from "vitest";
import { adminConnection, ensureTestUser } from "./broker.js";

beforeAll(async () => {
  // Fails loudly, naming the start command, when the broker is not running.
  await (await adminConnection()).close();
  await ensureTestUser();
});

await import("./conformance.suite.js");
await import("./behaviour.suite.js");
await import("./errors.suite.js");
await import("./refused-records.suite.js");
await import("./poison.suite.js");
await import("./queue-deleted.suite.js");
await import("./small-prefetch.suite.js");
await import("./end-to-end.suite.js");
await import("./server-loss.suite.js");
