import { getEnvironmentData, setEnvironmentData } from "node:worker_threads";

// Values known to be secret wherever they turn up: those a config took from `${env:…}` or
// `${file:…}` references. Kept on globalThis so a connector package that loads its own copy of
// Sluice redacts the same values (as the secret-schema registry is kept).
const REGISTRY_KEY = Symbol.for("sluice.secretValues");
// Each thread has its own globals, so the values are also kept as the thread's environment
// data, which every worker thread started afterwards (the executors of `local[N]`, the UI's)
// receives a copy of: an executor rebuilding the job's graph logs its connectors' configs, and
// must hide the same values the main thread does.
const THREAD_DATA_KEY = "sluice.secretValues";

/**
 * Values shorter than this are not searched for in text: a two-letter secret would blank out
 * every word holding those letters. Such values are still hidden by the field and URL rules.
 */
export const MIN_SECRET_VALUE_LENGTH = 4;

function registry(): Set<string> {
  const holder = globalThis as { [REGISTRY_KEY]?: Set<string> };
  holder[REGISTRY_KEY] ??= new Set<string>(inheritedValues());
  return holder[REGISTRY_KEY];
}

/** The values the thread that started this one had registered by then (none on the main thread). */
function inheritedValues(): string[] {
  const inherited = getEnvironmentData(THREAD_DATA_KEY);
  return Array.isArray(inherited)
    ? inherited.filter((value): value is string => typeof value === "string")
    : [];
}

/**
 * Marks `value` as secret for the life of the process: `redactText` and `redactConfig` replace
 * it wherever it appears, whatever field or message holds it, in this thread and in the worker
 * threads started after it (executors, the UI's thread).
 *
 * @example
 * registerSecretValue(process.env.AMQP_PASSWORD ?? "");
 */
export function registerSecretValue(value: string): void {
  if (value.length < MIN_SECRET_VALUE_LENGTH) return;
  const values = registry();
  const known = values.size;
  values.add(value);
  // In JSON text (a log line, a config shown) the value appears escaped.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) values.add(escaped);
  // Threads started from now on know it too (one already running does not).
  if (values.size !== known) setEnvironmentData(THREAD_DATA_KEY, [...values]);
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
