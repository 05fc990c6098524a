import { createServer, type Server, type Socket } from "node:net";

/**
 * A TCP server on 127.0.0.1 (ephemeral port) that sends newline-terminated lines to its
 * clients, like `nc -lk`. Lines sent while no client is connected wait for the next one.
 */
export class LineServer {
  readonly #server: Server;
  readonly #clients = new Set<Socket>();
  #backlog: Array<string | Uint8Array> = [];
  #port = 0;

  private constructor() {
    this.#server = createServer((socket) => {
      this.#clients.add(socket);
      socket.on("close", () => this.#clients.delete(socket));
      socket.on("error", () => undefined);
      if (this.#backlog.length > 0) {
        for (const data of this.#backlog) socket.write(data);
        this.#backlog = [];
      }
    });
  }

  static async start(): Promise<LineServer> {
    const server = new LineServer();
    await new Promise<void>((resolve, reject) => {
      server.#server.once("error", reject);
      server.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.#server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    server.#port = address.port;
    return server;
  }

  get port(): number {
    return this.#port;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** Sends raw text (the caller adds newlines). */
  sendRaw(data: string | Uint8Array): void {
    if (this.#clients.size === 0) this.#backlog.push(data);
    for (const client of this.#clients) client.write(data);
  }

  /** Sends each value as one line. */
  send(values: readonly Uint8Array[]): void {
    const decoder = new TextDecoder();
    this.sendRaw(values.map((value) => `${decoder.decode(value)}\n`).join(""));
  }

  /** Resets every client connection (RST), as a crashing server would. */
  dropClients(): void {
    for (const client of this.#clients) client.resetAndDestroy();
    this.#clients.clear();
  }

  /** Closes every client connection gracefully (FIN) after what was sent. */
  endClients(): void {
    for (const client of this.#clients) client.end();
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
