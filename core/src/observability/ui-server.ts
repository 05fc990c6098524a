import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SluiceError } from "../errors/sluice-error.js";
import { EventStream } from "./event-stream.js";
import type { JobObserver } from "./job-observer.js";
import type { UiAsset } from "./ui-assets.js";
import { isLoopbackHost, type ResolvedUiOptions } from "./ui-options.js";

/** The cookie a browser keeps the token in after opening the UI with `?token=`. */
const TOKEN_COOKIE = "sluice_ui_token";

// The pages load only their own files and talk only to this server.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

/** Prometheus text and its content type, as `SluiceMetrics` renders them. */
export interface MetricsText {
  /** The content type of `text()`: Prometheus' text exposition format. */
  readonly contentType: string;
  /** Every metric, rendered now. */
  text(): Promise<string>;
}

/** What the server serves. */
export interface UiServerParts {
  readonly options: ResolvedUiOptions;
  readonly metrics: MetricsText;
  /** The pages' source of data; absent when only `/metrics` is served. */
  readonly observer: JobObserver | undefined;
  readonly assets: ReadonlyMap<string, UiAsset>;
  /**
   * Told of a request the server could not answer (its client gets a 500 without the error's
   * text: an error may quote what no client should see); absent: the error is dropped.
   */
  readonly onRequestError?: (error: unknown) => void;
}

/**
 * The HTTP server of the web UI and `/metrics`: the pages and their assets, the job's state as
 * JSON, live changes as server-sent events, and the Prometheus text. With a token, every request
 * must carry it.
 *
 * @example
 * const server = new UiServer(parts);
 * const url = await server.listen();
 * await server.close();
 */
export class UiServer {
  readonly #parts: UiServerParts;
  readonly #server: Server;
  readonly #events = new EventStream();
  readonly #unsubscribe: () => void;
  readonly #tokenDigest: Buffer | undefined;

  constructor(parts: UiServerParts) {
    this.#parts = parts;
    const token = parts.options.token;
    this.#tokenDigest = token === undefined ? undefined : digest(token);
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        parts.onRequestError?.(error);
        if (!response.headersSent) {
          send(
            response,
            500,
            "text/plain; charset=utf-8",
            "internal error: the UI could not answer this request; the job's log says why\n",
          );
        } else {
          response.end();
        }
      });
    });
    this.#unsubscribe =
      parts.observer?.subscribe((change) => this.#events.send(change.kind, change)) ?? (() => {});
  }

  /** Starts listening; resolves to the UI's address, such as `http://127.0.0.1:4040/`. */
  listen(): Promise<string> {
    const { host, port } = this.#parts.options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new SluiceError(
            "SLUICE_UI_LISTEN_FAILED",
            `the UI cannot listen on ${host}:${port} (${error.code ?? error.message}): ${
              error.code === "EADDRINUSE"
                ? "another process uses the port; pick another one, or 0 for any free port"
                : "check ui.host is an address of this machine"
            }`,
            { cause: error },
          ),
        );
      };
      this.#server.once("error", onError);
      this.#server.listen(port, host, () => {
        this.#server.off("error", onError);
        const address = this.#server.address() as AddressInfo;
        const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
        resolve(`http://${shownHost}:${address.port}/`);
      });
    });
  }

  /** Stops serving: ends the event streams and closes every connection. */
  async close(): Promise<void> {
    this.#unsubscribe();
    this.#events.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://ui.invalid");
    if (!this.#hostAllowed(request)) {
      send(response, 421, "text/plain; charset=utf-8", "unexpected Host header\n");
      return;
    }
    if (!this.#authorized(request, url)) {
      response.setHeader("www-authenticate", 'Bearer realm="sluice"');
      send(
        response,
        401,
        "text/plain; charset=utf-8",
        "this UI needs its token: open it with ?token=<token>, or send Authorization: Bearer <token>\n",
      );
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      send(response, 405, "text/plain; charset=utf-8", "only GET is served\n");
      return;
    }
    if (url.searchParams.has("token") && this.#tokenDigest !== undefined) {
      // Keep the token in a cookie and drop it from the address bar (and from history).
      response.setHeader(
        "set-cookie",
        `${TOKEN_COOKIE}=${encodeURIComponent(url.searchParams.get("token") ?? "")}; HttpOnly; SameSite=Strict; Path=/`,
      );
      url.searchParams.delete("token");
      response.writeHead(303, { location: `${url.pathname}${url.search}` });
      response.end();
      return;
    }
    if (url.pathname === "/metrics") {
      const text = await this.#parts.metrics.text();
      send(response, 200, this.#parts.metrics.contentType, text);
      return;
    }
    const observer = this.#parts.observer;
    if (observer === undefined) {
      send(response, 404, "text/plain; charset=utf-8", "only /metrics is served\n");
      return;
    }
    this.#route(url.pathname, observer, response);
  }

  #route(path: string, observer: JobObserver, response: ServerResponse): void {
    if (path === "/" || /^\/batches\/\d+$/.test(path)) {
      this.#asset("index.html", response);
      return;
    }
    if (path.startsWith("/assets/")) {
      this.#asset(path.slice("/assets/".length), response);
      return;
    }
    if (path === "/api/job") {
      sendJson(response, 200, observer.snapshot());
      return;
    }
    const batchTime = /^\/api\/batches\/(\d+)$/.exec(path)?.[1];
    if (batchTime !== undefined) {
      const batch = observer.batch(Number(batchTime));
      if (batch === undefined) {
        sendJson(response, 404, { error: `no batch at ${batchTime} is kept` });
      } else {
        sendJson(response, 200, batch);
      }
      return;
    }
    if (path === "/api/events") {
      this.#events.open(response);
      return;
    }
    send(response, 404, "text/plain; charset=utf-8", "not found\n");
  }

  #asset(name: string, response: ServerResponse): void {
    const asset = this.#parts.assets.get(name);
    if (asset === undefined) {
      send(response, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    send(response, 200, asset.contentType, asset.body);
  }

  // Bound to loopback without a token, only loopback names are answered: a page elsewhere
  // cannot reach the UI by pointing a name of its own at 127.0.0.1 (DNS rebinding).
  #hostAllowed(request: IncomingMessage): boolean {
    if (this.#tokenDigest !== undefined) return true;
    const host = request.headers.host;
    if (host === undefined) return false;
    const name = host.replace(/:\d+$/, "");
    return isLoopbackHost(name);
  }

  #authorized(request: IncomingMessage, url: URL): boolean {
    const expected = this.#tokenDigest;
    if (expected === undefined) return true;
    const candidates = [
      /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1],
      cookieValue(request.headers.cookie, TOKEN_COOKIE),
      url.searchParams.get("token") ?? undefined,
    ];
    return candidates.some(
      (candidate) => candidate !== undefined && timingSafeEqual(digest(candidate), expected),
    );
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) {
      try {
        return decodeURIComponent(value.join("="));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": contentType,
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value));
}
