import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type ClientTlsOptions, splitHostPort } from "sluice/connector";

const NATIVE_PORT = 9042;

// An OPTIONS request in native protocol v4: version 4 (request), no flags, stream 0, opcode
// 0x05, empty body. Every Cassandra answers it, before any login, with SUPPORTED (or with an
// error naming the versions it speaks), in a frame whose first byte is 0x80 | version.
const OPTIONS_REQUEST = Uint8Array.of(0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00);

/**
 * What a contact point did with a native-protocol request: answered like Cassandra, answered in
 * another protocol (`answer`: the start of it, text when printable, e.g.
 * `"HTTP/1.1 400 Bad Request"`, else hex; `tls`: a TLS record), took the connection and said
 * nothing within the answer timeout, or could not be asked (refused, closed, a failed TLS
 * handshake: the driver tells those apart).
 */
export type ProbeAnswer =
  | { readonly kind: "cassandra" }
  | { readonly kind: "foreign"; readonly answer: string; readonly tls: boolean }
  | { readonly kind: "silent" }
  | { readonly kind: "unreachable" };

/** How long and how a probe connects. */
export interface ProbeOptions {
  readonly tls: ClientTlsOptions | undefined;
  /** Bounds connecting (and the TLS handshake), as the driver's `connectTimeout`. */
  readonly connectTimeoutMs: number;
  /** Bounds the wait for the answer once the request is sent, as the driver's `readTimeout`. */
  readonly answerTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Asks a contact point what it speaks (`probeNativeProtocol`; tests pass a fake). */
export type ContactPointProbe = (
  contactPoint: string,
  options: ProbeOptions,
) => Promise<ProbeAnswer>;

/**
 * Sends one native-protocol OPTIONS request to `contactPoint` and tells what came back. Never
 * rejects. cassandra-driver cannot tell another kind of server from a node that is down (it
 * waits out its read timeout and retries for ever), and some answers throw out of its parser
 * and end the process, so a contact point is asked this before the driver connects to it.
 *
 * @example
 * const foreign = await probeNativeProtocol("127.0.0.1:8080", {
 *   tls: undefined,
 *   connectTimeoutMs: 5_000,
 *   answerTimeoutMs: 12_000,
 * });
 * // { kind: "foreign", answer: '"HTTP/1.1 400 Bad Request"', tls: false }
 */
export const probeNativeProtocol: ContactPointProbe = (
  contactPoint,
  { tls, connectTimeoutMs, answerTimeoutMs, signal },
) => {
  const { host, port } = splitHostPort(contactPoint, NATIVE_PORT);
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    const finish = (answer: ProbeAnswer): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abandon);
      socket?.destroy();
      resolve(answer);
    };
    const abandon = (): void => finish({ kind: "unreachable" });
    let timer = setTimeout(abandon, connectTimeoutMs);
    if (signal?.aborted) return abandon();
    signal?.addEventListener("abort", abandon, { once: true });
    const send = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: "silent" }), answerTimeoutMs);
      socket?.write(OPTIONS_REQUEST);
    };
    socket =
      tls === undefined
        ? netConnect({ host, port }, send)
        : tlsConnect(
            { host, port, servername: tls.servername ?? serverName(host), ...without(tls) },
            send,
          );
    socket.once("data", (chunk: Buffer) => {
      const first = chunk[0];
      finish(
        first !== undefined && isNativeResponse(first)
          ? { kind: "cassandra" }
          : { kind: "foreign", answer: preview(chunk), tls: isTlsRecord(chunk) },
      );
    });
    socket.once("error", abandon);
    socket.once("close", abandon);
  });
};

/** The response bit with a protocol version Cassandra has had (1 to 6). */
function isNativeResponse(firstByte: number): boolean {
  return firstByte >= 0x81 && firstByte <= 0x86;
}

/** A TLS record (alert or handshake, version 3.x): a port that expects TLS. */
function isTlsRecord(chunk: Buffer): boolean {
  const [type, major] = chunk;
  return type !== undefined && type >= 0x14 && type <= 0x17 && major === 0x03;
}

// Node checks the certificate against servername, and sends none for an IP address.
function serverName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}

function without({
  servername: _,
  ...rest
}: ClientTlsOptions): Omit<ClientTlsOptions, "servername"> {
  return rest;
}

function preview(chunk: Buffer): string {
  const start = chunk.subarray(0, 48);
  const line = start.toString("latin1").split(/\r?\n/)[0] ?? "";
  if (line.length > 0 && /^[\x20-\x7e]+$/.test(line)) return JSON.stringify(line);
  return `bytes ${start.subarray(0, 12).toString("hex").replace(/(..)/g, "$1 ").trim()}`;
}
