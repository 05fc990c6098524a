import { Agent, request } from "node:http";

/** What one POST got back. */
export interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
}

/**
 * Posts a body once and resolves with the answer (which the webhook source gives only once the
 * records are acknowledged).
 */
export function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: "POST", headers, agent }, (response) => {
      response.resume();
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * A webhook sender like real ones: it posts newline-delimited records and, on 503 or a broken
 * connection, posts the same body again until it gets 200 (that retry is the redelivery).
 */
export class RetryingSender {
  readonly #token: string | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #agent = new Agent({ keepAlive: true });
  #stopped = false;
  #pendingLines = 0;
  /** Every status received, in order. */
  readonly statuses: number[] = [];

  constructor(token?: string) {
    this.#token = token;
  }

  /** Starts delivering `lines` as one request; returns at once (the answer comes on ack). */
  send(url: string, lines: readonly string[]): void {
    const body = lines.map((line) => `${line}\n`).join("");
    this.#pendingLines += lines.length;
    const delivery = this.#deliver(url, body, lines.length).finally(() =>
      this.#inFlight.delete(delivery),
    );
    this.#inFlight.add(delivery);
  }

  /** Lines sent and not yet answered 200: what the sender will deliver again. */
  get pendingLines(): number {
    return this.#pendingLines;
  }

  /** Drops every open connection and returns how many there were; the next attempt opens new ones. */
  dropConnections(): number {
    const open = [...Object.values(this.#agent.sockets), ...Object.values(this.#agent.freeSockets)]
      .map((sockets) => sockets?.length ?? 0)
      .reduce((sum, count) => sum + count, 0);
    this.#agent.destroy();
    this.#agent = new Agent({ keepAlive: true });
    return open;
  }

  /** Stops retrying and waits for every delivery to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#agent.destroy();
  }

  async #deliver(url: string, body: string, lines: number): Promise<void> {
    const headers: Record<string, string> = { "content-type": "application/x-ndjson" };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    while (!this.#stopped) {
      try {
        const { status } = await post(url, body, headers, this.#agent);
        this.statuses.push(status);
        if (status === 200) {
          this.#pendingLines -= lines;
          return;
        }
        if (status !== 503) throw new Error(`the webhook answered ${status}`);
      } catch (error) {
        if (this.#stopped) return;
        if (error instanceof Error && error.message.startsWith("the webhook answered")) throw error;
      }
      // A short pause before retrying; real senders would honour Retry-After.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
