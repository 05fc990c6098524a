// Values known to be secret wherever they turn up: those a config took from `${env:…}` or
// `${file:…}` references. Kept on globalThis so a connector package that loads its own copy of
// Sluice redacts the same values (as the secret-schema registry is kept).
const REGISTRY_KEY = Symbol.for("sluice.secretValues");

/**
 * Values shorter than this are not searched for in text: a two-letter secret would blank out
 * every word holding those letters. Such values are still hidden by the field and URL rules.
 */
export const MIN_SECRET_VALUE_LENGTH = 4;

function registry(): Set<string> {
  const holder = globalThis as { [REGISTRY_KEY]?: Set<string> };
  holder[REGISTRY_KEY] ??= new Set<string>();
  return holder[REGISTRY_KEY];
}

/**
 * Marks `value` as secret for the life of the process: `redactText` and `redactConfig` replace
 * it wherever it appears, whatever field or message holds it.
 *
 * @example
 * registerSecretValue(process.env.AMQP_PASSWORD ?? "");
 */
export function registerSecretValue(value: string): void {
  if (value.length < MIN_SECRET_VALUE_LENGTH) return;
  registry().add(value);
  // In JSON text (a log line, a config shown) the value appears escaped.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) registry().add(escaped);
}

/**
 * The registered secret values, longest first (so a value that contains another is replaced
 * whole).
 *
 * @example
 * for (const value of secretValues()) text = text.replaceAll(value, REDACTED);
 */
export function secretValues(): readonly string[] {
  return [...registry()].sort((a, b) => b.length - a.length);
}
