import type { Logger } from "pino";
import type { TlsConfig } from "./tls-config.js";
import { certificateWarnings, passphraseUnused } from "./tls-material.js";

/** Node TLS options with the server's certificate always checked unless turned off by name. */
export type ClientTlsOptions = Omit<TlsConfig, "rejectUnauthorized"> & {
  readonly rejectUnauthorized: boolean;
};

/**
 * The TLS options a client library gets for a `tls` setting, or undefined for no TLS. The
 * server's certificate is checked (`rejectUnauthorized: true`) for `true` and for options that
 * do not say `rejectUnauthorized: false`: some clients (cassandra-driver) check nothing unless
 * told to, so the default is never left to them.
 *
 * @example
 * clientTlsOptions(true); // { rejectUnauthorized: true }
 */
export function clientTlsOptions(
  tls: boolean | Partial<TlsConfig> | undefined,
): ClientTlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return { rejectUnauthorized: true };
  return { ...tls, rejectUnauthorized: tls.rejectUnauthorized !== false };
}

/**
 * Logs one warning when `tls` turns the check of the server's certificate off. Call it once per
 * source, sink or check, so the warning shows once for each connector that is exposed.
 *
 * @example
 * warnIfUnverified(config.tls, logger, "Kafka source");
 */
export function warnIfUnverified(
  tls: boolean | Partial<TlsConfig> | undefined,
  logger: Pick<Logger, "warn"> | undefined,
  what: string,
): void {
  if (typeof tls !== "object" || tls.rejectUnauthorized !== false) return;
  logger?.warn(
    { option: "tls.rejectUnauthorized" },
    `${what}: tls.rejectUnauthorized is false, so the server's certificate is not checked: anyone on the network path can pose as the server and read the credentials and records. Meant for tests; set tls.ca to the CA that signed the server's certificate instead.`,
  );
}

/**
 * Logs the warnings a `tls` setting deserves, once per source, sink or check: the server's
 * certificate not checked (see `warnIfUnverified`), a certificate of `tls.ca` or `tls.cert`
 * expired or not yet valid at `now`, or a `tls.ca` that is no CA (see `certificateWarnings`),
 * and a `tls.passphrase`
 * nothing uses (no `tls.key`, or a key that is not encrypted), which works but is likely not
 * what was meant.
 *
 * @example
 * warnAboutTls(config.tls, logger, "Kafka source");
 */
export function warnAboutTls(
  tls: boolean | Partial<TlsConfig> | undefined,
  logger: Pick<Logger, "warn"> | undefined,
  what: string,
  now: Date = new Date(),
): void {
  warnIfUnverified(tls, logger, what);
  if (typeof tls !== "object") return;
  for (const problem of certificateWarnings(tls, now)) {
    const option = `tls.${problem.path.join(".")}`;
    logger?.warn({ option }, `${what}: ${option}: ${problem.message}.`);
  }
  if (!passphraseUnused(tls)) return;
  const why = tls.key === undefined ? "there is no tls.key" : "tls.key is not encrypted";
  logger?.warn(
    { option: "tls.passphrase" },
    `${what}: tls.passphrase is set, but ${why}, so it is not used. Remove tls.passphrase, or give the encrypted key it belongs to in tls.key.`,
  );
}
