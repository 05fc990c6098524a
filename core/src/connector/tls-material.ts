import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";

/** The PEM fields of a `tls` setting, as given. */
export interface TlsMaterial {
  readonly ca?: string | readonly string[] | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly passphrase?: string | undefined;
}

/** One problem with the PEM fields of a `tls` setting: the field under `tls` and what to do. */
export interface TlsMaterialProblem {
  /** The field under `tls`, e.g. `["key"]`, or `["ca", 1]` for the second CA of a list. */
  readonly path: readonly (string | number)[];
  /** What is wrong and what to do, as a sentence; never any of the key's or passphrase's text. */
  readonly message: string;
}

// Node reports a passphrase it needed and did not get with one of these (the code changed across
// versions); a wrong one gives ERR_OSSL_BAD_DECRYPT.
const PASSPHRASE_MISSING = new Set([
  "ERR_MISSING_PASSPHRASE",
  "ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED",
]);
const BAD_DECRYPT = "ERR_OSSL_BAD_DECRYPT";
// The blocks of a PEM bundle. Only to count them and say what a field holds: whether a block is
// a certificate or a key is decided by node:crypto parsing it.
// OpenSSL (so Node's `ca` and `cert`) also reads "TRUSTED CERTIFICATE" and "X509 CERTIFICATE".
const CERTIFICATE_BLOCK =
  /-----BEGIN ((?:TRUSTED |X509 )?CERTIFICATE)-----[\s\S]*?-----END \1-----/g;
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]{1,64})-----/g;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/;
const FILE_NAME = /^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:\\)\S*$|^\S+\.(?:pem|crt|cer|key|der|p12|pfx)$/i;

/**
 * What is wrong with the PEM text of a `tls` setting, checked with node:crypto before anything
 * connects: each of `ca` and `cert` must hold certificates and `key` a private key, an encrypted
 * key needs the passphrase that decrypts it, `cert` and `key` come together and must belong to
 * each other. Empty when all is well. The messages never quote the key or the passphrase.
 *
 * @example
 * tlsMaterialProblems({ key: "oops" }); // [{ path: ["key"], message: "Not a PEM private key (…) …" }, …]
 */
export function tlsMaterialProblems(tls: TlsMaterial): TlsMaterialProblem[] {
  const problems: TlsMaterialProblem[] = [];
  const cas = tls.ca === undefined ? [] : typeof tls.ca === "string" ? [tls.ca] : tls.ca;
  cas.forEach((ca, index) => {
    const parsed = certificatesOf(ca);
    if (typeof parsed === "string") {
      problems.push({ path: typeof tls.ca === "string" ? ["ca"] : ["ca", index], message: parsed });
    }
  });
  const certs = tls.cert === undefined ? undefined : certificatesOf(tls.cert);
  if (typeof certs === "string") problems.push({ path: ["cert"], message: certs });
  const key = tls.key === undefined ? undefined : privateKeyOf(tls.key, tls.passphrase);
  if (key !== undefined && !(key instanceof KeyObject)) problems.push(key);
  if (tls.cert !== undefined && tls.key === undefined) {
    problems.push({
      path: ["key"],
      message: `Required with tls.cert: give the private key of the client certificate (its PEM text, or a \${file:…} reference to its file), or remove tls.cert`,
    });
  }
  if (tls.key !== undefined && tls.cert === undefined) {
    problems.push({
      path: ["cert"],
      message: `Required with tls.key: give the client certificate of that key (its PEM text, or a \${file:…} reference to its file), or remove tls.key`,
    });
  }
  if (Array.isArray(certs) && key instanceof KeyObject) {
    const mismatch = pairingProblem(certs, key);
    if (mismatch !== undefined) problems.push(mismatch);
  }
  return problems;
}

/**
 * True when `tls.passphrase` is given but nothing uses it: there is no `tls.key`, or the key is
 * not encrypted. Not an error (the connection works), but likely not what was meant.
 *
 * @example
 * passphraseUnused({ key: unencryptedPem, passphrase: "x" }); // true
 */
export function passphraseUnused(tls: TlsMaterial): boolean {
  if (tls.passphrase === undefined) return false;
  if (tls.key === undefined) return true;
  try {
    createPrivateKey({ key: tls.key });
    return true;
  } catch {
    return false;
  }
}

/**
 * What is likely wrong, though not refused, with the certificates of `tls.ca` and `tls.cert`:
 * one expired or not valid yet at `now` (the handshakes that need it fail: the server refuses an
 * expired client certificate, a server's certificate cannot be checked against an expired CA),
 * and a `tls.ca` certificate that is no CA's and not self-signed (a server's own certificate put
 * there: OpenSSL ends no chain in it). Connectors warn at start with the field instead of leaving
 * a bare handshake error. Unparsable text is left to `tlsMaterialProblems`.
 *
 * @example
 * certificateWarnings({ cert: pem }, new Date()); // [{ path: ["cert"], message: "The certificate (…) expired on …" }]
 */
export function certificateWarnings(tls: TlsMaterial, now: Date): TlsMaterialProblem[] {
  const fields: { path: (string | number)[]; text: string }[] = [];
  if (typeof tls.ca === "string") {
    fields.push({ path: ["ca"], text: tls.ca });
  } else {
    for (const [index, text] of (tls.ca ?? []).entries()) {
      fields.push({ path: ["ca", index], text });
    }
  }
  if (tls.cert !== undefined) fields.push({ path: ["cert"], text: tls.cert });
  const problems: TlsMaterialProblem[] = [];
  for (const { path, text } of fields) {
    const certificates = certificatesOf(text);
    if (typeof certificates === "string") continue;
    for (const [index, certificate] of certificates.entries()) {
      const which =
        certificates.length === 1
          ? `The certificate (${oneLine(certificate.subject)})`
          : `Certificate ${index + 1} of ${certificates.length} (${oneLine(certificate.subject)})`;
      const from = new Date(certificate.validFrom);
      const to = new Date(certificate.validTo);
      if (to.getTime() < now.getTime()) {
        problems.push({
          path,
          message: `${which} expired on ${to.toISOString()}: TLS handshakes that need it fail; give a renewed certificate`,
        });
      } else if (from.getTime() > now.getTime()) {
        problems.push({
          path,
          message: `${which} is not valid before ${from.toISOString()}: TLS handshakes that need it fail until then; check this machine's clock, or give a certificate valid now`,
        });
      }
      if (path[0] === "ca" && !certificate.ca && certificate.issuer !== certificate.subject) {
        problems.push({
          path,
          message: `${which} is not a CA's certificate (its basic constraints say CA:FALSE) and is not self-signed, so no server's certificate can be checked against it; give the certificate of the CA that issued it (${oneLine(certificate.issuer)})`,
        });
      }
    }
  }
  return problems;
}

/** The certificates in `text`, or what is wrong with it. */
function certificatesOf(text: string): X509Certificate[] | string {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) return notACertificate(text);
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch (error) {
      const which =
        blocks.length === 1 ? "The certificate" : `Certificate ${index + 1} of ${blocks.length}`;
      return `${which} does not parse (${reasonOf(error)}): the PEM text is damaged; give it again, or a \${file:…} reference to its file`;
    }
  }
  return certificates;
}

function notACertificate(text: string): string {
  if (FILE_NAME.test(text.trim())) {
    return `A file name, not PEM text: give the certificate's PEM text, or read the file with \${file:<its path>}`;
  }
  const labels = labelsOf(text);
  if (labels.some((label) => label.endsWith("PRIVATE KEY"))) {
    return "Holds a private key, not a certificate: the key goes in tls.key; give the PEM text of a certificate here";
  }
  if (labels.length > 0) {
    return `Holds a PEM "${labels[0]}" block, not a certificate: give the PEM text of a certificate (a "BEGIN CERTIFICATE" block), or a \${file:…} reference to its file`;
  }
  return `Not PEM text (no "BEGIN CERTIFICATE" line): give the certificate's PEM text, or a \${file:…} reference to its file`;
}

/** The private key in `text`, or the problem with it (on `key` or on `passphrase`). */
function privateKeyOf(
  text: string,
  passphrase: string | undefined,
): KeyObject | TlsMaterialProblem {
  try {
    return createPrivateKey(passphrase === undefined ? { key: text } : { key: text, passphrase });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const encrypted = ENCRYPTED_KEY.test(text);
    if (passphrase === undefined && (encrypted || PASSPHRASE_MISSING.has(String(code)))) {
      return {
        path: ["passphrase"],
        message: `Required: tls.key is encrypted; give the passphrase that decrypts it (for example \${env:TLS_KEY_PASSPHRASE}), or an unencrypted key`,
      };
    }
    if (passphrase !== undefined && code === BAD_DECRYPT) {
      return {
        path: ["passphrase"],
        message: `Does not decrypt tls.key (${reasonOf(error)}): give the passphrase the key was encrypted with`,
      };
    }
    return { path: ["key"], message: notAPrivateKey(text, error) };
  }
}

function notAPrivateKey(text: string, error: unknown): string {
  if (FILE_NAME.test(text.trim())) {
    return `A file name, not PEM text: give the key's PEM text, or read the file with \${file:<its path>}`;
  }
  const labels = labelsOf(text);
  if (labels.length > 0 && labels.every((label) => label.endsWith("CERTIFICATE"))) {
    return "Holds a certificate, not a private key: the certificate goes in tls.cert, and its private key here";
  }
  if (labels.includes("PUBLIC KEY")) {
    return 'Holds a public key: give the private key (a "BEGIN PRIVATE KEY" block) of the client certificate';
  }
  return `Not a PEM private key (${reasonOf(error)}): give the key's PEM text, or a \${file:…} reference to its file`;
}

/** The problem when `key` is not the key of the first certificate of `cert`, if it is not. */
function pairingProblem(
  certificates: readonly X509Certificate[],
  key: KeyObject,
): TlsMaterialProblem | undefined {
  const [own, ...rest] = certificates;
  if (own === undefined || matches(own, key)) return undefined;
  const position = rest.findIndex((certificate) => matches(certificate, key));
  if (position >= 0) {
    return {
      path: ["cert"],
      message: `Lists the certificate of tls.key in place ${position + 2}: put the client's own certificate first, then the CAs that signed it`,
    };
  }
  return {
    path: ["key"],
    message: `Does not belong to the certificate in tls.cert (${oneLine(own.subject)}): give that certificate's private key, or the certificate of this key`,
  };
}

function matches(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(key);
  } catch {
    return false;
  }
}

function labelsOf(text: string): string[] {
  return [...text.matchAll(PEM_LABEL)].map((match) => match[1] ?? "");
}

// OpenSSL's "error:1E08010C:DECODER routines::unsupported" without its number.
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-Fa-f]+:/, "").split("\n")[0] ?? message;
}

function oneLine(name: string): string {
  return name.split("\n").join(", ");
}
