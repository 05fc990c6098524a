import { type AnySchema, childSchemas } from "./schema-walk.js";
import { isSecret } from "./secret.js";

/** What a secret value is replaced with wherever config is shown. */
export const REDACTED = "[redacted]";

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
];

// `scheme://user:password@host` — the password part of a connection string.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi;

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
 * A copy of `value` safe to log, print or put in an error message: fields marked `secret()`
 * in `schema`, fields named like credentials, and passwords inside URLs become `[redacted]`.
 * Works on raw input as well as on parsed config, also when the input does not match.
 *
 * @example
 * redactConfig(z.object({ user: z.string(), password: secret(z.string()) }), config);
 * // { user: "ada", password: "[redacted]" }
 */
export function redactConfig(schema: AnySchema | undefined, value: unknown): unknown {
  return redactValue(value, schema ? [schema] : [], undefined, 0, new WeakSet());
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
): unknown {
  if (value === undefined || value === null) return value;
  if (schemas.some(isSecret) || (key !== undefined && looksLikeCredentialName(key))) {
    return REDACTED;
  }
  if (typeof value === "string") return value.replace(URL_CREDENTIALS, `$1:${REDACTED}@`);
  if (typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item, index) =>
        redactValue(item, childSchemas(schemas, index), undefined, depth + 1, seen),
      );
    }
    if (!isPlainObject(value)) return value;
    const copy: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      copy[name] = redactValue(item, childSchemas(schemas, name), name, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
