import { Socket } from "node:net";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, vi } from "vitest";
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

/**
 * `promise`, or a failure naming `what` did not happen once the deadline passes.
 *
 * @example
 * const client = await within(sockets.paused, "the socket was not paused");
 */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  const signal = AbortSignal.timeout(DEADLINE_MS);
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => reject(new Error(`${what} within ${DEADLINE_MS} ms`))),
    ),
  ]);
}

/**
 * Watches `pause()` and `resume()` of every TCP socket: the source pauses its socket to apply
 * backpressure, and no other code in the test pauses one. `paused` is the first socket paused.
 * Restore the spies after the test (`vi.restoreAllMocks()`).
 *
 * @example
 * const sockets = watchSockets();
 * const client = await sockets.paused;
 * sockets.resumesOf(client); // 0 while it stays paused
 */
export function watchSockets() {
  const pause = Socket.prototype.pause;
  let onPause: (socket: Socket) => void = () => undefined;
  const paused = new Promise<Socket>((resolve) => {
    onPause = resolve;
  });
  const pauses = vi.spyOn(Socket.prototype, "pause").mockImplementation(function (this: Socket) {
    onPause(this);
    return pause.call(this);
  });
  const resumes = vi.spyOn(Socket.prototype, "resume");
  return {
    paused,
    /** Every socket paused so far, in order (a socket paused twice is there twice). */
    pausedSockets: () => pauses.mock.contexts as Socket[],
    resumesOf: (socket: Socket) => resumes.mock.contexts.filter((on) => on === socket).length,
  };
}
