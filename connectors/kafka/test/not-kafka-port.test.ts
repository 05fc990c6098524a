// A `brokers` entry naming another server's port: kafkajs decodes the answer inside a socket
// listener, where bytes that are not Kafka's protocol used to throw out of the event loop and end
// the process. Each client now fails with a refusal naming `brokers`.
import { createServer, type Server } from "node:net";
import pino from "pino";
import { validateConfig } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConnection } from "../src/check-connection.js";
import { KafkaSink } from "../src/kafka-sink.js";
import { KafkaSource } from "../src/kafka-source.js";
import { kafkaSinkConfig } from "../src/sink-config.js";
import { kafkaSourceConfig } from "../src/source-config.js";

// What Cassandra answers a Kafka ApiVersions request with: a CQL error frame ("Invalid or
// unsupported protocol version"), whose first four bytes read as a negative Kafka frame size.
const CQL_ERROR_FRAME = Buffer.from(
  "8500000000000000670000000a0061496e76616c6964206f7220756e737570706f727465642070726f746f636f6c2076657273696f6e202830293b20737570706f727465642076657273696f6e73206172652028332f76332c20342f76342c20352f76352c20362f76362d6265746129",
  "hex",
);

let server: Server;
let brokers: string[];
const logger = pino({ level: "silent" });
const signal = () => AbortSignal.timeout(20_000);

beforeAll(async () => {
  server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.on("data", () => socket.write(CQL_ERROR_FRAME));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  brokers = [`127.0.0.1:${address.port}`];
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const refusal = {
  code: "SLUICE_CONNECTOR_REFUSED",
  message: expect.stringMatching(/not Kafka's protocol.*Check "brokers"/),
};

describe("a broker address where another kind of server answers", () => {
  it("refuses checkConnection, naming brokers", async () => {
    await expect(checkConnection({ brokers, retries: 0 })).rejects.toMatchObject(refusal);
  });

  it("refuses the source's connect, naming brokers", async () => {
    const config = validateConfig(
      kafkaSourceConfig,
      { brokers, topics: ["orders"], groupId: "g", retries: 0 },
      "source",
    );
    const source = new KafkaSource(config, logger);
    await expect(source.connect(signal())).rejects.toMatchObject(refusal);
    await source.close();
  });

  it("refuses the sink's connect, naming brokers", async () => {
    const config = validateConfig(
      kafkaSinkConfig,
      { brokers, topic: "orders", retries: 0 },
      "sink",
    );
    const sink = new KafkaSink(config, logger);
    await expect(sink.connect(signal())).rejects.toMatchObject(refusal);
    await sink.close();
  });
});
