import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import { registerSecretValue } from "../util/secret-values.js";

/** One reference that could not be resolved: where it is and why. */
export interface UnresolvedReference {
  /** The setting holding it, such as `job.kafka.password`. */
  readonly path: string;
  /** The reference as written: `${env:KAFKA_PASSWORD}`. */
  readonly reference: string;
  /** What is wrong and what to do, never the value. */
  readonly reason: string;
}

/**
 * References in a config that could not be resolved, all listed at once. The message names each
 * setting and its variable or file, never a value.
 *
 * @example
 * if (error instanceof ConfigReferenceError) for (const ref of error.unresolved) console.log(ref.path);
 */
export class ConfigReferenceError extends SluiceError {
  readonly unresolved: readonly UnresolvedReference[];

  constructor(where: string, unresolved: readonly UnresolvedReference[]) {
    const count = unresolved.length === 1 ? "1 reference" : `${unresolved.length} references`;
    super(
      "SLUICE_INVALID_CONFIG",
      `${where}: ${count} cannot be resolved:\n${unresolved
        .map((ref) => `  - ${ref.path}: ${ref.reference}: ${ref.reason}`)
        .join("\n")}`,
    );
    this.name = "ConfigReferenceError";
    this.unresolved = unresolved;
  }
}

/** Where references are resolved from. */
export interface ReferenceSources {
  /** The environment `${env:NAME}` reads (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** The folder relative `${file:path}` paths start from. */
  readonly baseDirectory: string;
}

// `$${` writes a literal `${`; `${env:NAME}` and `${file:path}` are references; any other
// `${...}` is left as written (connectors have templates of their own).
const REFERENCE = /\$(\$)?\{(env|file):([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A copy of `value` (parsed YAML or JSON) with every `${env:NAME}` and `${file:path}` in its
 * strings replaced by the variable's value or the file's text (one trailing newline dropped), so
 * that secrets need not be written into config files. Each value taken is registered as secret:
 * it is redacted wherever it would be printed. Unresolvable references are added to `unresolved`
 * (the caller reports them together) and left in place.
 *
 * @example
 * const config = await resolveConfigReferences(parsed, { baseDirectory: "/etc/job" }, [], []);
 * // { job: { password: "…" } } from { job: { password: "${env:KAFKA_PASSWORD}" } }
 */
export async function resolveConfigReferences(
  value: unknown,
  sources: ReferenceSources,
  path: readonly string[],
  unresolved: UnresolvedReference[],
): Promise<unknown> {
  if (typeof value === "string") return resolveString(value, sources, path, unresolved);
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const [index, item] of value.entries()) {
      items.push(await resolveConfigReferences(item, sources, indexed(path, index), unresolved));
    }
    return items;
  }
  if (typeof value === "object" && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = await resolveConfigReferences(item, sources, [...path, key], unresolved);
    }
    return copy;
  }
  return value;
}

async function resolveString(
  text: string,
  sources: ReferenceSources,
  path: readonly string[],
  unresolved: UnresolvedReference[],
): Promise<string> {
  if (!text.includes("${")) return text;
  const replacements: string[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    const [reference, escaped, kind, target = ""] = match;
    if (escaped !== undefined) {
      replacements.push(reference.slice(1));
      continue;
    }
    const resolved =
      kind === "env"
        ? fromEnvironment(target, sources.env ?? process.env)
        : await fromFile(target, sources.baseDirectory);
    if ("reason" in resolved) {
      unresolved.push({ path: path.join(".") || "(config)", reference, reason: resolved.reason });
      replacements.push(reference);
    } else {
      registerSecretValue(resolved.value);
      replacements.push(resolved.value);
    }
  }
  let index = 0;
  return text.replace(REFERENCE, () => replacements[index++] ?? "");
}

function fromEnvironment(
  name: string,
  env: NodeJS.ProcessEnv,
): { readonly value: string } | { readonly reason: string } {
  if (!ENV_NAME.test(name)) {
    return {
      reason: "not a variable name (letters, digits and _, not starting with a digit)",
    };
  }
  const value = env[name];
  if (value === undefined) {
    return {
      reason: `the environment variable ${name} is not set; set it before starting, or write the setting without a reference`,
    };
  }
  return { value };
}

async function fromFile(
  file: string,
  baseDirectory: string,
): Promise<{ readonly value: string } | { readonly reason: string }> {
  if (file.trim() === "")
    return { reason: "no file named; write the path after file:, such as /run/secrets/password" };
  const path = isAbsolute(file) ? file : resolve(baseDirectory, file);
  try {
    // Files written by `echo` or an editor end in a newline that is not part of the secret.
    return { value: (await readFile(path, "utf8")).replace(/\r?\n$/, "") };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === "ENOENT"
        ? "it does not exist"
        : code === "EACCES"
          ? "this user may not read it"
          : code === "EISDIR"
            ? "it is a folder"
            : `${String(code ?? "it cannot be read")}`;
    return { reason: `cannot read the file ${path}: ${why}` };
  }
}

function indexed(path: readonly string[], index: number): string[] {
  const last = path.at(-1);
  return last === undefined ? [`[${index}]`] : [...path.slice(0, -1), `${last}[${index}]`];
}
