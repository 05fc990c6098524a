import { SluiceError } from "../errors/sluice-error.js";
import { NotConnectedError } from "./control-flow.js";
import type { HostPort } from "./host-port.js";
import { tlsRefused } from "./tls-failure.js";

/** What a connector says about the server it failed to connect to. */
export interface ConnectTarget extends HostPort {
  /** The server as messages name it, e.g. `"MQTT broker at 127.0.0.1:1883"`. */
  readonly at: string;
  /** What a reset connection means, e.g. `"the connection was reset"`. */
  readonly resetMeans: string;
  /** The protocol's port, e.g. `"an MQTT port (1883, or 8883 with TLS)"`. */
  readonly portKind: string;
  /** The usual TLS port, named in the advice for a failed handshake. */
  readonly tlsPort: number;
}

/**
 * The advice for one failed connect: builders for the two outcomes (unreachable: Sluice
 * retries; refused: fatal) with the server and the underlying reason in their messages, and the
 * advice for the failures every TCP/TLS client shares.
 */
export interface ConnectAdvice {
  /** The error's `code` (an errno name, a TLS code, or a protocol's reason number). */
  readonly code: unknown;
  /** The error's message. */
  readonly reason: string;
  /** "that the broker is running and listening on host:port (config "url" or "hosts")". */
  readonly where: string;
  /** A `NotConnectedError`: "Cannot reach <at>: <what> (<reason>). Check <check>." */
  unreachable(what: string, check: string): NotConnectedError;
  /** A `SLUICE_CONNECTOR_REFUSED` error: "<at> <what> (<reason>)". */
  refused(what: string): SluiceError;
  /**
   * The advice for a socket errno (refused, no answer, no such host, reset), a failed TLS
   * handshake (`tlsRefused`: the setting to fix) or TLS settings Node could not load;
   * undefined for anything else, which the connector explains itself.
   */
  network(): SluiceError | undefined;
}

const TLS_CODE = /^(ERR_SSL|ERR_TLS|ERR_OSSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/;

/**
 * Starts explaining a failed connect to `target`, so every connector words the same failures
 * alike and says what to check.
 *
 * @example
 * const advice = connectAdvice(error, target);
 * return advice.network() ?? advice.unreachable("the connection failed", advice.where);
 */
export function connectAdvice(error: unknown, target: ConnectTarget): ConnectAdvice {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const where = `that the broker is running and listening on ${target.label} (config "url" or "hosts")`;
  const unreachable = (what: string, check: string) =>
    new NotConnectedError(`Cannot reach ${target.at}: ${what} (${reason}). Check ${check}.`, {
      cause: error,
    });
  const refused = (what: string) =>
    new SluiceError("SLUICE_CONNECTOR_REFUSED", `${target.at} ${what} (${reason})`, {
      cause: error,
    });
  const network = (): SluiceError | undefined => {
    const tls = tlsRefused(error, target.at);
    if (tls !== undefined) return tls;
    switch (code) {
      case "ECONNREFUSED":
        return unreachable("connection refused", `${where}, and that no firewall blocks the port`);
      case "ETIMEDOUT":
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return unreachable("no answer", `${where}, and the network path to it`);
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return unreachable(`the host name "${target.host}" does not resolve`, "the host name");
      case "ECONNRESET":
      case "EPIPE":
        return unreachable(
          target.resetMeans,
          `${where}, that ${target.port} is ${target.portKind}, and the TLS settings`,
        );
    }
    if (typeof code === "string" && TLS_CODE.test(code)) {
      return refused(
        `failed the TLS handshake: check "tls" (ca, servername, certificates) and that the port speaks TLS (usually ${target.tlsPort})`,
      );
    }
    return undefined;
  };
  return { code, reason, where, unreachable, refused, network };
}
