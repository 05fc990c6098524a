import { isIP } from "node:net";
import { SluiceError } from "../errors/sluice-error.js";

/** Where the web UI and `/metrics` listen, and who may read them. */
export interface UiOptions {
  /**
   * The interface to bind (default `127.0.0.1`). Any address other than loopback needs `token`,
   * since the pages show record counts, source names and error messages.
   */
  readonly host?: string;
  /** The TCP port; `0` picks a free one (read it from the handle's `url`). */
  readonly port: number;
  /**
   * A shared secret of at least 16 characters, sent as `Authorization: Bearer <token>` (what
   * Prometheus' `authorization` setting sends) or once as `?token=` by a browser, which then
   * keeps it in a cookie. Required off loopback; optional on it.
   */
  readonly token?: string;
  /** How many completed batches the charts and the batch table keep (default 1000, as Spark). */
  readonly retainedBatches?: number;
  /** Serve `/metrics` only, without the pages (for a job scraped by Prometheus but not watched). */
  readonly metricsOnly?: boolean;
}

/** UI options checked, with defaults applied. */
export interface ResolvedUiOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly retainedBatches: number;
  readonly metricsOnly: boolean;
}

/** The shortest token accepted: shorter ones are guessed too easily. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Checks UI options, listing every problem at once; refuses a non-loopback address without a token.
 *
 * @example
 * resolveUiOptions({ port: 4040 }).host; // "127.0.0.1"
 */
export function resolveUiOptions(options: UiOptions): ResolvedUiOptions {
  if (typeof options !== "object" || options === null) {
    throw new SluiceError("SLUICE_INVALID_ARGUMENT", "ui: expected options such as { port: 4040 }");
  }
  const problems: string[] = [];
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") {
    problems.push("ui.host must be a host name or an IP address, such as 127.0.0.1");
  }
  const { port } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(`ui.port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const token = options.token === "" ? undefined : options.token;
  if (token !== undefined && (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH)) {
    problems.push(
      `ui.token must be a string of at least ${MIN_TOKEN_LENGTH} characters (for example the output of \`openssl rand -hex 16\`)`,
    );
  }
  const retainedBatches = options.retainedBatches ?? 1000;
  if (!Number.isInteger(retainedBatches) || retainedBatches < 1) {
    problems.push(
      `ui.retainedBatches must be an integer of at least 1, got ${String(retainedBatches)}`,
    );
  }
  if (problems.length > 0) {
    throw new SluiceError("SLUICE_INVALID_ARGUMENT", problems.join("; "));
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new SluiceError(
      "SLUICE_UI_TOKEN_REQUIRED",
      `ui.host is ${host}, which other machines can reach, and no ui.token is set: set a token of at least ${MIN_TOKEN_LENGTH} characters (SLUICE_UI_TOKEN for \`sluice run\`), or bind the UI to 127.0.0.1`,
    );
  }
  return {
    host,
    port,
    token,
    retainedBatches,
    metricsOnly: options.metricsOnly ?? false,
  };
}

/**
 * True for names and addresses only this machine reaches: `localhost`, 127.0.0.0/8, `::1`.
 *
 * @example
 * isLoopbackHost("0.0.0.0"); // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  switch (isIP(bare)) {
    case 4:
      return bare.startsWith("127.");
    case 6:
      return bare === "::1" || bare.toLowerCase() === "::ffff:127.0.0.1";
    default:
      return false;
  }
}

/**
 * Reads a `[host:]port` address as `--ui` takes it (`4040`, `0.0.0.0:4040`, `[::1]:4040`).
 *
 * @example
 * parseUiAddress("0.0.0.0:4040", "--ui"); // { host: "0.0.0.0", port: 4040 }
 */
export function parseUiAddress(
  text: string,
  field: string,
): { readonly host: string | undefined; readonly port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || port > 65_535) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${field} takes [host:]port, such as 4040 or 0.0.0.0:4040; got "${text}"`,
    );
  }
  const host = match[1]?.replace(/^\[(.*)\]$/, "$1");
  return { host, port };
}
