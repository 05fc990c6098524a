import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConnectorContext,
  NotConnectedError,
  type ReadOptions,
  type ReadResult,
  type RecordHeaders,
  SluiceError,
  type Source,
  type SourceRecord,
} from "sluice/connector";
import type { WebhookConfig } from "./webhook-config.js";

/** The logger Sluice gives a connector (pino's, bound to the connector's id). */
type Logger = ConnectorContext["logger"];

/** One HTTP request held open until every record it carried is acknowledged. */
interface HeldRequest {
  readonly response: ServerResponse;
  /** Records not yet acknowledged. */
  unsettled: number;
  /** True once any of its records was nacked: the sender must retry the whole request. */
  failed: boolean;
  /** True once the sender went away; there is no one left to answer. */
  abandoned: boolean;
}

interface QueuedRecord {
  readonly record: SourceRecord;
  readonly request: HeldRequest;
}

const NDJSON = /^application\/(x-)?ndjson\b/i;
const encoder = new TextEncoder();

/**
 * A source that receives records by HTTP POST. It answers a request only once the records it
 * carried were output and checkpointed (`ack()` → 200), or asks the sender to retry
 * (`ack(error)` → 503 with Retry-After). The sender's retry is the redelivery, so the source
 * keeps nothing after answering: it is not replayable, and Sluice logs what it receives to the
 * write-ahead log.
 *
 * A body is one record, or one record per line for `application/x-ndjson`.
 */
export class WebhookSource implements Source {
  // Private fields (#) never show in console.log or JSON.stringify: the token stays hidden.
  readonly #config: WebhookConfig;
  readonly #logger: Logger;
  readonly #queue: QueuedRecord[] = [];
  readonly #held = new Set<HeldRequest>();
  #server: Server | undefined;
  #failure: NotConnectedError | undefined;
  #wake: (() => void) | undefined;
  #paused = false;
  #closed = false;
  #sequence = 0;

  constructor(config: WebhookConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  /** Where senders POST to, once connected. */
  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new NotConnectedError("the webhook source is not listening yet");
    return `http://${this.#config.host}:${address.port}${this.#config.path}`;
  }

  /** Starts the HTTP server. A port in use is reported as NotConnected, so Sluice retries. */
  async connect(signal: AbortSignal): Promise<void> {
    if (this.#closed)
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the webhook source was closed");
    if (this.#server?.listening) return;
    signal.throwIfAborted();
    const server = createServer((request, response) => this.#receive(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => {
        reject(
          new NotConnectedError(
            `cannot listen on ${this.#config.host}:${this.#config.port}: ${error.message}`,
            { cause: error },
          ),
        );
      });
      server.listen(this.#config.port, this.#config.host, () => resolve());
    });
    server.on("error", (error) => {
      this.#failure = new NotConnectedError(`the webhook server failed: ${error.message}`, {
        cause: error,
      });
      this.#notify();
    });
    this.#server = server;
    this.#failure = undefined;
    this.#logger.info({ url: this.url }, "webhook source listening");
  }

  /** Waits for records, at most flow control's `maxRecords`; settles with none on pause, close or abort. */
  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    if (this.#closed)
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the webhook source was closed");
    if (this.#server === undefined)
      throw new NotConnectedError("the webhook source is not listening");
    while (this.#queue.length === 0) {
      if (this.#failure) throw this.#failure;
      if (this.#paused || this.#closed || signal.aborted)
        return { records: [], ack: () => undefined };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    // The rest stays queued for the next read: flow control asked for no more than this.
    const limit = Math.min(this.#config.maxRecordsPerRead, options?.maxRecords ?? Infinity);
    const taken = this.#queue.splice(0, limit);
    let settled = false;
    return {
      records: taken.map((entry) => entry.record),
      ack: (error?: unknown) => {
        if (settled)
          throw new SluiceError(
            "SLUICE_INVALID_ARGUMENT",
            "ack() was already called for this result",
          );
        settled = true;
        for (const { request } of taken) this.#settle(request, error !== undefined);
      },
    };
  }

  /** New requests get 503 (the sender retries later); a pending read settles. */
  pause(): void {
    this.#paused = true;
    this.#notify();
  }

  resume(): void {
    this.#paused = false;
    this.#notify();
  }

  /** Answers every held request with 503 (their senders retry), then stops the server. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of this.#held) this.#answer(request, 503);
    this.#held.clear();
    this.#queue.length = 0;
    this.#notify();
    const server = this.#server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #receive(request: IncomingMessage, response: ServerResponse): void {
    const refusal = this.#refusal(request);
    if (refusal !== undefined) {
      this.#reply(response, refusal);
      return;
    }
    this.#readBody(request).then(
      (body) => this.#accept(request, response, body),
      (error: unknown) => this.#reply(response, error === TOO_LARGE ? 413 : 400),
    );
  }

  // The status that turns a request away before its body is read, if any.
  #refusal(request: IncomingMessage): number | undefined {
    const { path, token, maxPendingRequests } = this.#config;
    if (new URL(request.url ?? "/", "http://localhost").pathname !== path) return 404;
    if (request.method !== "POST") return 405;
    if (token !== undefined && !sameSecret(request.headers.authorization, `Bearer ${token}`)) {
      return 401;
    }
    // Paused (backpressure), closing, or too many held: the sender retries after Retry-After.
    if (this.#paused || this.#closed || this.#held.size >= maxPendingRequests) return 503;
    return undefined;
  }

  #accept(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    if (this.#closed) {
      this.#reply(response, 503);
      return;
    }
    const values = NDJSON.test(request.headers["content-type"] ?? "")
      ? body
          .toString("utf8")
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => encoder.encode(line))
      : [new Uint8Array(body)];
    if (values.length === 0) {
      this.#reply(response, 200);
      return;
    }
    const held: HeldRequest = {
      response,
      unsettled: values.length,
      failed: false,
      abandoned: false,
    };
    this.#held.add(held);
    // A sender that gives up will retry: forget its records that nobody has read yet.
    response.on("close", () => {
      if (response.writableFinished) return;
      held.abandoned = true;
      this.#held.delete(held);
      for (let index = this.#queue.length - 1; index >= 0; index--) {
        if (this.#queue[index]?.request === held) this.#queue.splice(index, 1);
      }
    });
    const headers = recordHeaders(request);
    const key = request.headers["x-record-key"];
    for (const value of values) {
      this.#queue.push({
        request: held,
        record: {
          value,
          ...(typeof key === "string" ? { key: encoder.encode(key) } : {}),
          headers,
          timestampMs: Date.now(),
          partition: this.#config.path,
          offset: String(this.#sequence++),
        },
      });
    }
    this.#notify();
  }

  // Answers a request once all its records are settled: 200, or 503 if any was nacked.
  #settle(request: HeldRequest, failed: boolean): void {
    request.failed ||= failed;
    request.unsettled--;
    if (request.unsettled > 0 || request.abandoned) return;
    this.#held.delete(request);
    this.#answer(request, request.failed ? 503 : 200);
  }

  #answer(request: HeldRequest, status: 200 | 503): void {
    if (!request.abandoned) this.#reply(request.response, status);
  }

  #reply(response: ServerResponse, status: number): void {
    if (response.headersSent) return;
    if (status === 503) response.setHeader("retry-after", String(this.#config.retryAfterSeconds));
    response.writeHead(status).end();
  }

  #readBody(request: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.#config.maxBodyBytes) {
          reject(TOO_LARGE);
          request.resume();
          return;
        }
        chunks.push(chunk);
      });
      request.on("end", () => resolve(Buffer.concat(chunks)));
      request.on("error", reject);
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

const TOO_LARGE = new Error("body too large");

// Compares in constant time so the token cannot be guessed byte by byte from response times.
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Keeps the content type and the sender's own x- headers; never the Authorization header.
function recordHeaders(request: IncomingMessage): RecordHeaders {
  const headers: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value !== "string") continue;
    if (name === "content-type" || (name.startsWith("x-") && name !== "x-record-key")) {
      headers[name] = encoder.encode(value);
    }
  }
  return headers;
}
