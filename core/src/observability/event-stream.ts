import type { ServerResponse } from "node:http";

/** Seconds between comments that keep idle connections (and proxies in between) open. */
const KEEP_ALIVE_MS = 15_000;

/**
 * The open server-sent-event connections of the UI: each page gets every event from when it
 * connected; a page that goes away is dropped.
 *
 * @example
 * const stream = new EventStream();
 * stream.open(response);
 * stream.send("batch", { batchTime: 1000 });
 */
export class EventStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #keepAlive: NodeJS.Timeout;

  constructor() {
    this.#keepAlive = setInterval(() => {
      for (const client of this.#clients) client.write(": keep-alive\n\n");
    }, KEEP_ALIVE_MS);
    // The UI must never keep a finished job's process alive.
    this.#keepAlive.unref();
  }

  /** How many pages are connected. */
  get size(): number {
    return this.#clients.size;
  }

  /** Answers a request with an event stream and keeps it until the page closes it. */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    // Tells the page how long to wait before reconnecting after the job restarts.
    response.write("retry: 2000\n\n");
    this.#clients.add(response);
    response.on("close", () => this.#clients.delete(response));
  }

  /** Sends one event to every connected page. */
  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.#clients) client.write(message);
  }

  /** Ends every connection and stops the keep-alive timer. */
  close(): void {
    clearInterval(this.#keepAlive);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
