import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach } from "vitest";
import { LineServer } from "./line-server.js";

/**
 * Only stops a wait that hangs: connecting to and reading from the test's TCP server can take
 * seconds on a loaded machine.
 */
export const DEADLINE_MS = 20_000;

/** What a socket source test gets: its line server, its registry, and a connected source. */
export interface SocketSourceHarness {
  readonly server: LineServer;
  readonly registry: ConnectorRegistry;
  /** A `socket` source of the registry on the server, connected, with `config` on top. */
  openSource(config?: object): ReturnType<typeof connectSource>;
}

/**
 * Registers, in the enclosing file or `describe`, a fresh line server and connector registry
 * for every test (disposed after it), and returns the harness to reach them.
 *
 * @example
 * const socket = socketSourceHarness();
 * it("reads", async () => { const source = await socket.openSource(); });
 */
export function socketSourceHarness(): SocketSourceHarness {
  let server: LineServer | undefined;
  let registry: ConnectorRegistry | undefined;
  beforeEach(async () => {
    server = await LineServer.start();
    registry = createConnectorRegistry({ logger: new LogCapture().logger });
  });
  afterEach(async () => {
    await registry?.dispose();
    await server?.close();
  });
  const running = () => {
    if (server === undefined || registry === undefined) {
      throw new Error("the socket source harness exists only while a test runs");
    }
    return { server, registry };
  };
  return {
    get server() {
      return running().server;
    },
    get registry() {
      return running().registry;
    },
    openSource: (config = {}) => {
      const { server, registry } = running();
      return connectSource(registry, server.port, config);
    },
  };
}

async function connectSource(registry: ConnectorRegistry, port: number, config: object) {
  const source = registry.createSource("socket", { host: "127.0.0.1", port, ...config }).connector;
  await source.connect(AbortSignal.timeout(DEADLINE_MS));
  return source;
}
