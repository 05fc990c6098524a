import { createSecureContext, type SecureContextOptions } from "node:tls";
import { SluiceError } from "../errors/sluice-error.js";

/** What a failed TLS handshake says to fix. */
export interface TlsFailure {
  /** Node's (OpenSSL's) error code, e.g. `SELF_SIGNED_CERT_IN_CHAIN`. */
  readonly code: string;
  /** The setting to fix, e.g. `tls.ca`. */
  readonly option: string;
  /** What went wrong and how to fix it, in a sentence or two. */
  readonly advice: string;
  /** The error's own message. */
  readonly reason: string;
  /**
   * `handshake`: the server and this client did not agree. `settings`: Node could not load the
   * PEM text of `tls` (a config that did not go through `tlsConfig`'s check), nothing was sent.
   */
  readonly stage: "handshake" | "settings";
}

// The server's certificate does not lead to a trusted CA.
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
  "INVALID_CA",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
// The server refused this client's certificate, or wanted one.
const CLIENT_CERT = new Set([
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED",
]);
// What a TLS client reads from a port that does not speak TLS.
const NOT_TLS = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);
const OTHER_TLS = /^(ERR_SSL_|ERR_TLS_)/;
// What node:tls throws for PEM text it cannot load, before anything is sent.
const KEY_MISMATCH = "ERR_OSSL_X509_KEY_VALUES_MISMATCH";
const PASSPHRASE = new Set([
  "ERR_OSSL_BAD_DECRYPT",
  "ERR_MISSING_PASSPHRASE",
  "ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED",
]);
const UNPARSABLE = /^ERR_OSSL_(PEM_|ASN1_|UNSUPPORTED$)/;

function describe(code: string, reason: string): TlsFailure | undefined {
  const settings = describeSettings(code, reason);
  if (settings !== undefined) return settings;
  const handshake = describeHandshake(code, reason);
  return handshake === undefined ? undefined : { ...handshake, stage: "handshake" };
}

function describeSettings(code: string, reason: string): TlsFailure | undefined {
  const stage = "settings";
  if (code === KEY_MISMATCH) {
    return {
      code,
      reason,
      stage,
      option: "tls.key",
      advice:
        'the key in "tls.key" is not the key of the certificate in "tls.cert": give the certificate and the key that belong together',
    };
  }
  if (PASSPHRASE.has(code)) {
    return {
      code,
      reason,
      stage,
      option: "tls.passphrase",
      advice:
        'the key in "tls.key" is encrypted, and "tls.passphrase" is missing or does not decrypt it: give the passphrase the key was encrypted with',
    };
  }
  if (UNPARSABLE.test(code)) {
    return {
      code,
      reason,
      stage,
      option: "tls.ca, tls.cert or tls.key",
      advice: `a PEM setting does not parse: "tls.ca" and "tls.cert" take the PEM text of certificates, "tls.key" that of a private key (or a \${file:…} reference to their files)`,
    };
  }
  return undefined;
}

function describeHandshake(code: string, reason: string): Omit<TlsFailure, "stage"> | undefined {
  if (UNTRUSTED.has(code)) {
    return {
      code,
      reason,
      option: "tls.ca",
      advice:
        'the server\'s certificate is not signed by a CA this client trusts (the PEM text in "tls.ca", or Node\'s bundled public CAs without it). Set "tls.ca" to the CA certificate that signed the server\'s certificate',
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return {
      code,
      reason,
      option: "tls.servername",
      advice:
        'the server\'s certificate is for other host names than the one connected to. Connect by a name the certificate holds, or set "tls.servername" to it',
    };
  }
  if (EXPIRED.has(code)) {
    return {
      code,
      reason,
      option: "the server's certificate",
      advice: "the server's certificate is outside its validity period: renew it on the server",
    };
  }
  if (CLIENT_CERT.has(code)) {
    return {
      code,
      reason,
      option: "tls.cert",
      advice:
        'the server refused this client\'s certificate, or wanted one. Set "tls.cert" and "tls.key" to a client certificate signed by a CA the server trusts',
    };
  }
  if (NOT_TLS.has(code)) {
    return {
      code,
      reason,
      option: "the port",
      advice: "the port does not speak TLS: connect to the server's TLS port, or turn tls off",
    };
  }
  if (OTHER_TLS.test(code)) {
    return { code, reason, option: "tls", advice: 'check the "tls" settings' };
  }
  return undefined;
}

/**
 * The TLS failure in an error or anything it wraps (`cause`, `errors`, the per-host
 * `innerErrors` of cassandra-driver, `originalError`), or undefined when the failure is not
 * about TLS.
 *
 * @example
 * tlsFailureOf(error)?.option; // "tls.ca"
 */
export function tlsFailureOf(error: unknown): TlsFailure | undefined {
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length > 0 && seen.size < 50) {
    const current = pending.shift();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, message, cause, errors, innerErrors, originalError } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
      innerErrors?: unknown;
      originalError?: unknown;
    };
    if (typeof code === "string") {
      // OpenSSL's messages run over several lines; the first says it.
      const reason = typeof message === "string" ? (message.split("\n")[0] ?? code).trim() : code;
      const found = describe(code, reason);
      if (found !== undefined) return found;
    }
    pending.push(cause, originalError);
    if (Array.isArray(errors)) pending.push(...errors);
    if (typeof innerErrors === "object" && innerErrors !== null) {
      pending.push(...Object.values(innerErrors));
    }
  }
  return undefined;
}

/**
 * A `SLUICE_CONNECTOR_REFUSED` error for a failed TLS handshake with `at`, naming the setting to
 * fix, or `SLUICE_INVALID_CONFIG` when Node could not load the PEM text of `tls` at all;
 * undefined when `error` is not about TLS. Either fails again the same way, so it is not
 * retried.
 *
 * @example
 * throw tlsRefused(error, "Kafka at 127.0.0.1:9094") ?? unreachable(error);
 */
export function tlsRefused(error: unknown, at: string): SluiceError | undefined {
  const failure = tlsFailureOf(error);
  if (failure === undefined) return undefined;
  if (failure.stage === "settings") {
    return new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `The TLS settings for ${at} do not load: ${failure.advice} (fix: ${failure.option}; ${failure.code}: ${failure.reason}).`,
      { cause: error },
    );
  }
  return new SluiceError(
    "SLUICE_CONNECTOR_REFUSED",
    `The TLS handshake with ${at} failed: ${failure.advice} (fix: ${failure.option}; ${failure.code}: ${failure.reason}).`,
    { cause: error },
  );
}

/**
 * The `SLUICE_INVALID_CONFIG` error (see `tlsRefused`) when Node cannot load the TLS options
 * `options` for `at`, or undefined when it can. For client libraries that lose the reason of
 * such a failure (kafkajs reports it as a connection error without its code): call it before
 * handing them the options.
 *
 * @example
 * const problem = unloadableTls(clientTlsOptions(config.tls) ?? {}, "Kafka at 127.0.0.1:9094");
 * if (problem !== undefined) throw problem;
 */
export function unloadableTls(options: SecureContextOptions, at: string): SluiceError | undefined {
  try {
    createSecureContext(options);
    return undefined;
  } catch (error) {
    return tlsRefused(error, at);
  }
}
