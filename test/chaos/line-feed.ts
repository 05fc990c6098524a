// The TCP server the socket chaos jobs read, and how often each of its lines reached the outputs.
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

/**
 * The TCP server the job reads: numbered lines (`line-000001`, ...) in small bursts to the
 * connected job, remembering which numbers went to which connection.
 */
export class LineFeed {
  readonly server: Server;
  /** Per connection, in order: the numbers of the lines written to it. */
  readonly sentPerConnection: number[][] = [];
  #current: Socket | undefined;
  #next = 1;
  #timer: NodeJS.Timeout | undefined;

  constructor() {
    this.server = createServer((socket) => {
      socket.on("error", () => undefined);
      socket.on("close", () => {
        if (this.#current === socket) this.#current = undefined;
      });
      this.#current = socket;
      this.sentPerConnection.push([]);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");
    return address.port;
  }

  /** Writes `perBurst` lines every `everyMs` to the connected job, until `stop()`. */
  start(perBurst: number, everyMs: number): void {
    this.#timer = setInterval(() => {
      const socket = this.#current;
      const sent = this.sentPerConnection.at(-1);
      if (socket === undefined || sent === undefined || socket.destroyed) return;
      let text = "";
      for (let i = 0; i < perBurst; i++) {
        sent.push(this.#next);
        text += `${lineOf(this.#next++)}\n`;
      }
      socket.write(text);
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async close(): Promise<void> {
    this.stop();
    this.#current?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function lineOf(number: number): string {
  return `line-${String(number).padStart(6, "0")}`;
}

/** How often each line number appears in the files the job's sink wrote. */
export async function outputCounts(directory: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    if (name.startsWith(".")) continue;
    const text = await readFile(join(directory, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      const match = /^line-(\d{6})$/.exec(line);
      if (match === null) continue;
      const number = Number(match[1]);
      counts.set(number, (counts.get(number) ?? 0) + 1);
    }
  }
  return counts;
}
