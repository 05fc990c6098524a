// Helpers of the tests that run `sluice run` with the UI: a TCP server the job's socket source
// reads lines from, and the UI's address as the CLI announces it.
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import type { SluiceProcess } from "../../samples/sluice-process.js";

/** A job of this folder, as an absolute path. */
export function observedJob(name: string): string {
  return fileURLToPath(new URL(`./jobs/${name}`, import.meta.url));
}

/** A TCP server on loopback that sends lines to every connected client. */
export class LineServer {
  readonly #server: Server;
  readonly #clients = new Set<Socket>();
  #connections = 0;

  private constructor(server: Server) {
    this.#server = server;
    server.on("connection", (socket) => {
      this.#connections++;
      this.#clients.add(socket);
      socket.on("error", () => this.#clients.delete(socket));
      socket.on("close", () => this.#clients.delete(socket));
    });
  }

  /** Starts a server on a free port of 127.0.0.1. */
  static async start(): Promise<LineServer> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return new LineServer(server);
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    return address.port;
  }

  /** Connections the server accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Waits until a client is connected. */
  async connected(): Promise<void> {
    await vi.waitFor(
      () => {
        if (this.#clients.size === 0) throw new Error("no client connected yet");
      },
      { timeout: 120_000, interval: 20 },
    );
  }

  /** Sends lines to every connected client. */
  send(lines: readonly string[]): void {
    const text = lines.map((line) => `${line}\n`).join("");
    for (const client of this.#clients) client.write(text);
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * The UI's address as `sluice run --json` announces it on stderr (`{"event":"ui","url":...}`),
 * waiting until it does.
 */
export async function announcedUrl(sluice: SluiceProcess, event = "ui"): Promise<string> {
  return vi.waitFor(
    () => {
      for (const line of sluice.stderr.split("\n")) {
        if (!line.startsWith("{")) continue;
        const parsed = JSON.parse(line) as { event?: string; url?: string };
        if (parsed.event === event && parsed.url !== undefined) return parsed.url;
      }
      throw new Error(`no ${event} address announced yet\n${sluice.describe()}`);
    },
    { timeout: 120_000, interval: 20 },
  );
}

/** The `batchCompleted` progress lines `sluice run --json` wrote to stderr so far. */
export function completedBatches(
  stderr: string,
): { readonly batchTime: number; readonly records: number }[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith('{"event":"batchCompleted"'))
    .map((line) => JSON.parse(line) as { batchTime: number; records: number });
}
