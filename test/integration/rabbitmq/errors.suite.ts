// Clear errors when the broker cannot be reached or refuses: they name host:port and what to check.
import { createServer } from "node:net";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkConnection,
  rabbitmqSink,
  rabbitmqSource,
} from "../../../connectors/rabbitmq/src/index.js";
import { GUEST_URL, HOST, PORT, TEST_PASSWORD, TEST_USER } from "./broker.js";

// Only stops a wait that hangs: connecting to and reading from a broker or a scripted server can
// take seconds on a loaded machine.
const DEADLINE_MS = 20_000;

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let registry: ConnectorRegistry | undefined;
let logs: LogCapture;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("rabbitmq errors", () => {
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  function newRegistry(): ConnectorRegistry {
    logs = new LogCapture();
    registry = new ConnectorRegistry({ logger: logs.logger }).use(rabbitmqSource).use(rabbitmqSink);
    return registry;
  }

  describe("rabbitmq connection errors", () => {
    it("names the broker and what to check when nothing listens on the port", async () => {
      const port = await closedPort();
      const source = newRegistry().createSource("rabbitmq", {
        hosts: [`${HOST}:${port}`],
        queue: { name: "never-used" },
      }).connector;
      const failure = await source
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(failure.message).toContain(`RabbitMQ at ${HOST}:${port}`);
      expect(failure.message).toContain("connection refused");
      expect(failure.message).toContain(
        `Check that the broker is running and listening on ${HOST}:${port}`,
      );

      const sink = newRegistry().createSink("rabbitmq", {
        url: `amqp://${HOST}:${port}`,
      }).connector;
      const sinkFailure = await sink
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(sinkFailure).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(sinkFailure.message).toContain(`${HOST}:${port}`);

      const checked = await checkConnection({ hosts: [`${HOST}:${port}`] }).catch((error) => error);
      expect(checked).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(checked.message).toContain(`${HOST}:${port}`);
      expect(checked.message).toContain("Check that the broker is running");
    });

    it("lists every broker tried when none answers", async () => {
      const [a, b] = [await closedPort(), await closedPort()];
      const failure = await checkConnection({ hosts: [`${HOST}:${a}`, `${HOST}:${b}`] }).catch(
        (error) => error,
      );
      expect(failure).toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      expect(failure.message).toContain("Cannot reach any RabbitMQ broker (2 tried)");
      expect(failure.message).toContain(`${HOST}:${a}`);
      expect(failure.message).toContain(`${HOST}:${b}`);
    });

    it("falls through to the next broker that answers", async () => {
      const port = await closedPort();
      const result = await checkConnection({ hosts: [`${HOST}:${port}`, `${HOST}:${PORT}`] });
      expect(result.server).toBe(`${HOST}:${PORT}`);
      expect(result.product).toMatch(/^RabbitMQ \d+\.\d+/);
    });

    it("refuses a wrong password without retrying, and never shows it", async () => {
      const wrong = "wrong-password-never-shown";
      const source = newRegistry().createSource("rabbitmq", {
        hosts: [`${HOST}:${PORT}`],
        username: TEST_USER,
        password: wrong,
        queue: { name: "never-used" },
      }).connector;
      const failure = await source
        .connect(AbortSignal.timeout(DEADLINE_MS))
        .catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect(failure.message).toContain(
        `RabbitMQ at ${HOST}:${PORT} refused the login of user "${TEST_USER}"`,
      );
      expect(failure.message).toContain('check "username" and "password"');
      expect(`${failure.message}${logs.text()}`).not.toContain(wrong);
    });

    it("checks a working connection with the test user", async () => {
      const result = await checkConnection({
        url: `amqp://${HOST}:${PORT}`,
        username: TEST_USER,
        password: TEST_PASSWORD,
      });
      expect(result.server).toBe(`${HOST}:${PORT}`);
      expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    });

    it("refuses a virtual host that does not exist", async () => {
      const failure = await checkConnection({ url: `${GUEST_URL}/no-such-vhost` }).catch(
        (error) => error,
      );
      expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_REFUSED" });
      expect(failure.message).toContain('virtual host "no-such-vhost"');
    });

    it("reports a config without an address as invalid", async () => {
      const failure = await checkConnection({ username: "x" }).catch((error) => error);
      expect(failure).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
      expect(failure.message).toContain("url");
    });
  });
});
