import { REDACTED, redactConfigString } from "../util/redact-text.js";
import { registerSecretValue } from "../util/secret-values.js";
import { isCloseName } from "./edit-distance.js";
import { type AnySchema, childSchemas, knownFieldNames } from "./schema-walk.js";
import { isSecret } from "./secret.js";

export { REDACTED } from "../util/redact-text.js";

const MAX_DEPTH = 32;

// A safety net for fields an author forgot to mark: names that hold credentials by convention.
const CREDENTIAL_NAME_ENDINGS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "privatekey",
  "credential",
  "credentials",
  "authorization",
];

/**
 * True for a field name that conventionally holds a credential (`password`, `apiKey`,
 * `client_secret`, `authToken`, ...); such fields are redacted even when not marked `secret()`.
 *
 * @example
 * looksLikeCredentialName("client_secret"); // true
 */
export function looksLikeCredentialName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_]/g, "");
  return CREDENTIAL_NAME_ENDINGS.some((ending) => normalized.endsWith(ending));
}

/**
 * True for a field name that is a credential name with a typo in its last words (`pasword`,
 * `apiKy`, `client_secrte`): a misspelt field is refused by the schema and then shown in the
 * error, so it is redacted as if it were spelt right.
 *
 * @example
 * looksLikeMisspeltCredentialName("saslPasword"); // true
 */
export function looksLikeMisspeltCredentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
  // The last one, two and three words: `tokn`, `api ky`, `private key pem`.
  const tails = [1, 2, 3]
    .filter((count) => count <= words.length)
    .map((count) => words.slice(-count).join(""));
  return tails.some((tail) => CREDENTIAL_NAME_ENDINGS.some((ending) => isCloseName(tail, ending)));
}

/**
 * A copy of `value` safe to log, print or put in an error message: fields marked `secret()`
 * in `schema`, fields named like credentials, fields the schema does not know whose names are
 * close to a secret field's (`pasword`, `keyy`), the user-info of URLs, PEM blocks and values
 * from `${env:…}`/`${file:…}` references become `[redacted]`. Works on raw input as well as on
 * parsed config, also when the input does not match.
 *
 * @example
 * redactConfig(z.object({ user: z.string(), password: secret(z.string()) }), config);
 * // { user: "ada", password: "[redacted]" }
 */
export function redactConfig(schema: AnySchema | undefined, value: unknown): unknown {
  return redactValue(value, schema ? [schema] : [], undefined, 0, new WeakSet(), ignore);
}

/**
 * Registers every string `redactConfig` would hide in `value` (secret fields, credential-named
 * and misspelt ones) with `registerSecretValue`, so that a message quoting one — a client
 * library's error echoing a password — is redacted by `redactText` as well.
 *
 * @example
 * registerSecretFields(schema, { url: "amqp://h", password: "correct horse" });
 * redactText("login correct horse refused"); // "login [redacted] refused"
 */
export function registerSecretFields(schema: AnySchema | undefined, value: unknown): void {
  redactValue(value, schema ? [schema] : [], undefined, 0, new WeakSet(), (hidden) =>
    forEachString(hidden, 0, registerSecretValue),
  );
}

/**
 * `redactConfig` rendered as one line of JSON, for log lines and error messages.
 *
 * @example
 * logger.info(`connecting with ${formatConfig(schema, config)}`);
 */
export function formatConfig(schema: AnySchema | undefined, value: unknown): string {
  const redacted = redactConfig(schema, value);
  if (redacted === undefined) return "undefined";
  return JSON.stringify(redacted, (_key, item: unknown) => {
    if (typeof item === "bigint") return `${item}n`;
    if (item instanceof Uint8Array) return `<${item.byteLength} bytes>`;
    if (typeof item === "function") return "<function>";
    return item;
  });
}

function redactValue(
  value: unknown,
  schemas: readonly AnySchema[],
  key: string | undefined,
  depth: number,
  seen: WeakSet<object>,
  hidden: (value: unknown) => void,
): unknown {
  if (value === undefined || value === null) return value;
  if (schemas.some(isSecret) || (key !== undefined && looksLikeCredentialName(key))) {
    hidden(value);
    return REDACTED;
  }
  if (typeof value === "string") return redactConfigString(value);
  if (typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item, index) =>
        redactValue(item, childSchemas(schemas, index), undefined, depth + 1, seen, hidden),
      );
    }
    if (!isPlainObject(value)) return value;
    const names = new FieldNames(schemas);
    const copy: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      if (names.misspeltSecret(name)) {
        hidden(item);
        copy[name] = REDACTED;
      } else {
        copy[name] = redactValue(item, childSchemas(schemas, name), name, depth + 1, seen, hidden);
      }
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

/** The field names the schemas of one object know, and which of them are secret. */
class FieldNames {
  readonly #known: ReadonlySet<string>;
  readonly #secret: readonly string[];

  constructor(schemas: readonly AnySchema[]) {
    const known = knownFieldNames(schemas);
    this.#known = new Set(known);
    this.#secret = known.filter((name) => childSchemas(schemas, name).some(isSecret));
  }

  /**
   * A field the schema does not know, named close to one of its secret fields or to a
   * credential: most likely a secret with a typo in its name.
   */
  misspeltSecret(name: string): boolean {
    if (this.#known.has(name)) return false;
    return (
      this.#secret.some((secretName) => isCloseName(name, secretName)) ||
      looksLikeMisspeltCredentialName(name)
    );
  }
}

function ignore(): void {}

function forEachString(value: unknown, depth: number, visit: (text: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (typeof value === "object" && value !== null && depth < MAX_DEPTH) {
    for (const item of Object.values(value)) forEachString(item, depth + 1, visit);
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
