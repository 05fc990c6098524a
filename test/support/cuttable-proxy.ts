// A TCP proxy on loopback in front of a local server, which a test can cut and restore: cut, it
// resets every connection through it and refuses new ones (a node gone away, as the client
// sees it); restored, it forwards again. It can also cut itself after a number of chunks from
// the clients, so that a test cuts the connections in the middle of a write it started. Silenced,
// it keeps every connection open and accepts new ones but forwards nothing either way: a node that
// took the connection and never answers. Holding answers, it forwards the clients' bytes but keeps
// the server's until released: answers on their way, late. It knows no protocol: the MQTT and RabbitMQ suites
// put it between a client and the shared broker, which keeps running for the other suites.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/** Counts the proxy keeps, for tests to wait on events rather than on time. */
export interface ProxyCounts {
  /** Connections forwarded to the server. */
  forwarded: number;
  /** Connections refused (reset at once) while cut. */
  refused: number;
  /** Connections reset by a cut. */
  reset: number;
  /** Connections accepted while silenced (never forwarded). */
  silenced: number;
  /** Chunks from clients swallowed while silenced. */
  swallowed: number;
  /** Client connections open now (forwarded or silenced): 0 once every client closed its own. */
  open: number;
  /** Chunks from the server held (not yet passed on) since `holdAnswers()`. */
  held: number;
}

export class CuttableProxy {
  readonly counts: ProxyCounts = {
    forwarded: 0,
    refused: 0,
    reset: 0,
    silenced: 0,
    swallowed: 0,
    open: 0,
    held: 0,
  };
  readonly #server: Server;
  readonly #targetPort: number;
  readonly #targetHost: string;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  #silent = false;
  /** The server's chunks held for their clients while answers are held; undefined otherwise. */
  #heldAnswers: [Socket, Buffer][] | undefined;
  /** Client chunks still forwarded before an armed cut; undefined when not armed. */
  #chunksBeforeCut: number | undefined;
  readonly #waiters = new Set<() => void>();

  private constructor(server: Server, targetPort: number, targetHost: string) {
    this.#server = server;
    this.#targetPort = targetPort;
    this.#targetHost = targetHost;
  }

  /**
   * Starts a proxy on a free loopback port in front of `targetHost`:`targetPort`.
   *
   * @example
   * const proxy = await CuttableProxy.start(1883);
   * const url = `mqtt://${proxy.address}`;
   */
  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<CuttableProxy> {
    // Nothing connects before listen(), by when the proxy exists.
    let accept: (client: Socket) => void = (client) => client.destroy();
    const server = createServer((client) => accept(client));
    const proxy = new CuttableProxy(server, targetPort, targetHost);
    accept = (client) => proxy.#accept(client);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** The `host:port` clients connect to. */
  get address(): string {
    const address = this.#server.address();
    if (address === null || typeof address === "string")
      throw new Error("the proxy is not listening");
    return `127.0.0.1:${address.port}`;
  }

  /** Resets every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.#cut = true;
    this.#chunksBeforeCut = undefined;
    for (const socket of this.#sockets) {
      socket.resetAndDestroy();
      this.counts.reset++;
    }
    this.#sockets.clear();
    this.#wake();
  }

  /**
   * Cuts when bytes from a client arrive after `chunks` more chunks from clients were forwarded:
   * with 0, before anything more reaches the server; with more, in the middle of the requests a
   * client is sending.
   */
  cutAfterClientChunks(chunks: number): void {
    this.#chunksBeforeCut = chunks;
  }

  /** Keeps connections open and accepts new ones, but forwards nothing, until `restore()`. */
  silence(): void {
    this.#silent = true;
  }

  /** Forwards the clients' bytes as before but keeps what the server sends until `releaseAnswers()`. */
  holdAnswers(): void {
    this.#heldAnswers ??= [];
  }

  /** Passes the held answers on, in order, and forwards the server's bytes again. */
  releaseAnswers(): void {
    const held = this.#heldAnswers ?? [];
    this.#heldAnswers = undefined;
    for (const [client, chunk] of held) if (!client.destroyed) client.write(chunk);
  }

  /** Forwards again; connections a silence broke (bytes were dropped) are closed. */
  restore(): void {
    this.#cut = false;
    if (!this.#silent) return;
    this.#silent = false;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Resolves once `condition` over the counts holds (checked on every change). */
  until(condition: (counts: ProxyCounts) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition(this.counts)) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      this.counts.refused++;
      client.resetAndDestroy();
      this.#wake();
      return;
    }
    this.counts.open++;
    client.once("close", () => {
      this.counts.open--;
      this.#wake();
    });
    if (this.#silent) {
      this.counts.silenced++;
      this.#sockets.add(client);
      client.on("data", () => this.#swallow());
      client.on("error", () => this.#sockets.delete(client));
      client.on("close", () => this.#sockets.delete(client));
      this.#wake();
      return;
    }
    const server = tcpConnect(this.#targetPort, this.#targetHost);
    this.#sockets.add(client);
    this.#sockets.add(server);
    this.counts.forwarded++;
    const drop = (): void => {
      this.#sockets.delete(client);
      this.#sockets.delete(server);
      client.destroy();
      server.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      if (this.#silent) return this.#swallow();
      if (this.#chunksBeforeCut !== undefined && this.#chunksBeforeCut-- <= 0) {
        this.cut();
        return;
      }
      server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (this.#silent) return;
      if (this.#heldAnswers !== undefined) {
        this.#heldAnswers.push([client, chunk]);
        this.counts.held++;
        this.#wake();
        return;
      }
      client.write(chunk);
    });
    client.on("error", drop);
    server.on("error", drop);
    client.on("close", drop);
    server.on("close", drop);
    this.#wake();
  }

  #swallow(): void {
    this.counts.swallowed++;
    this.#wake();
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }
}
