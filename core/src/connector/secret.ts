import { z } from "zod";
import { type AnySchema, schemaLayers } from "./schema-walk.js";

interface SecretMeta {
  readonly secret: true;
}

// Kept on globalThis so a connector package that loads its own copy of Sluice marks its
// secrets in the same registry the framework reads (zod keeps its global registry the same way).
const REGISTRY_KEY = Symbol.for("sluice.secretSchemas");

function secretRegistry(): z.core.$ZodRegistry<SecretMeta> {
  const holder = globalThis as { [REGISTRY_KEY]?: z.core.$ZodRegistry<SecretMeta> };
  holder[REGISTRY_KEY] ??= z.registry<SecretMeta>();
  return holder[REGISTRY_KEY];
}

/**
 * Marks a config field as secret: its value never appears in logs, printed config or error
 * messages. Refinements made afterwards (`.min()`, `.describe()`, `.optional()`) keep the mark.
 *
 * @example
 * const config = z.object({ url: z.string(), password: secret(z.string()).optional() });
 */
export function secret<T extends AnySchema>(schema: T): T {
  secretRegistry().add(schema, { secret: true });
  return schema;
}

/**
 * True when `schema`, or a schema it wraps or was derived from, was marked with `secret()`.
 *
 * @example
 * isSecret(secret(z.string()).optional()); // true
 */
export function isSecret(schema: AnySchema): boolean {
  return schemaLayers(schema).some((layer) => secretRegistry().get(layer)?.secret === true);
}
