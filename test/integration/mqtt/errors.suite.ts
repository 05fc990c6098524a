// Clear errors when the broker cannot be reached or refuses: they name host:port and what to
// check. Refusals Mosquitto here never gives (it lets everyone in) come from a few scripted
// bytes on a local socket; the client side is the real mqtt.js.
import { createServer, type Server, type Socket } from "node:net";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { checkConnection, mqttSink, mqttSource } from "../../../connectors/mqtt/src/index.js";
import { HOST, PORT } from "./broker.js";

// Only stops a wait that hangs: connecting to and reading from a broker or a scripted server can
// take seconds on a loaded machine.
const DEADLINE_MS = 20_000;

let registry: ConnectorRegistry | undefined;
const servers: Server[] = [];

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt errors", () => {
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
    for (const server of servers.splice(0)) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  function newRegistry(): ConnectorRegistry {
    registry = new ConnectorRegistry({ logger: new LogCapture().logger })
      .use(mqttSource)
      .use(mqttSink);
    return registry;
  }

  /** A port nothing listens on: bound once by us, then released. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  }

  /** A local server answering every connection with `answer(socket, data)`; resolves its port. */
  async function scripted(answer: (socket: Socket, data: Buffer) => void): Promise<number> {
    const server = createServer((socket) => socket.on("data", (data) => answer(socket, data)));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  }

  const CONNACK_OK = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);

  describe("mqtt connection errors", () => {
    it("names the broker and what to check when nothing listens on the port", async () => {
      const port = await closedPort();
      const source = newRegistry().createSource("mqtt", {
        hosts: [`${HOST}:${port}`],
        clientId: "never-connects",
        topics: ["a/b"],
      }).connector;
      const failure = await source
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(failure.message).toContain(`MQTT broker at ${HOST}:${port}`);
      expect(failure.message).toContain("connection refused");
      expect(failure.message).toContain(
        `Check that the broker is running and listening on ${HOST}:${port}`,
      );

      const sink = newRegistry().createSink("mqtt", {
        url: `mqtt://${HOST}:${port}`,
        topic: "t",
      }).connector;
      const sinkFailure = await sink
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(sinkFailure).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(sinkFailure.message).toContain(`${HOST}:${port}`);

      const checked = await checkConnection({ hosts: [`${HOST}:${port}`] }).catch((error) => error);
      expect(checked).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(checked.message).toContain(`${HOST}:${port}`);
    });

    it("falls through to the next broker that answers", async () => {
      const port = await closedPort();
      const result = await checkConnection({ hosts: [`${HOST}:${port}`, `${HOST}:${PORT}`] });
      expect(result).toMatchObject({ server: `${HOST}:${PORT}`, protocolVersion: 5 });
    });

    it("refuses, without retrying, a broker that refuses the credentials", async () => {
      // CONNACK with reason 0x86: bad user name or password.
      const port = await scripted((socket) =>
        socket.end(Buffer.from([0x20, 0x03, 0x00, 0x86, 0x00])),
      );
      const failure = await checkConnection({
        hosts: [`${HOST}:${port}`],
        username: "ada",
        password: "wrong-secret-123",
      }).catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect(failure.message).toContain(
        `MQTT broker at ${HOST}:${port} refused the user name or password`,
      );
      expect(failure.message).toContain('check "username" and "password"');
      expect(failure.message).not.toContain("wrong-secret-123");
    });

    it("refuses a port that does not speak MQTT", async () => {
      const port = await scripted((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
      const failure = await checkConnection({ hosts: [`${HOST}:${port}`] }).catch((error) => error);
      expect(
        failure.code === "SLUICE_CONNECTOR_REFUSED" || failure.code === "SLUICE_NOT_CONNECTED",
      ).toBe(true);
      expect(failure.message).toContain(`${HOST}:${port}`);
      expect(failure.message).toMatch(/not MQTT|MQTT port/);
    });

    it("names the filter the broker refused to subscribe to", async () => {
      const port = await scripted((socket, data) => {
        if (data[0] === 0x10) socket.write(CONNACK_OK);
        else if (data[0] === 0x82) {
          // SUBACK for the SUBSCRIBE's packet id (after a one-byte length), reason 0x87: not authorized.
          socket.write(Buffer.from([0x90, 0x04, data[2] ?? 0, data[3] ?? 0, 0x00, 0x87]));
        }
      });
      const source = newRegistry().createSource("mqtt", {
        hosts: [`${HOST}:${port}`],
        clientId: "job-7",
        topics: ["plant/secret/#"],
      }).connector;
      const failure = await source
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect(failure.message).toContain(
        `MQTT broker at ${HOST}:${port} refused the subscription to "plant/secret/#" at QoS 1`,
      );
      expect(failure.message).toContain('client id "job-7"');
    });

    it("reports a config without an address as invalid", async () => {
      const failure = await checkConnection({ username: "x" }).catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
      expect(failure.message).toContain("url");
    });
  });
});
