import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues } from "../connector/config-validation.js";
import { type Duration, parseDuration } from "../util/duration.js";
import { CliError } from "./cli-error.js";
import {
  ConfigReferenceError,
  resolveConfigReferences,
  type UnresolvedReference,
} from "./config-references.js";

/**
 * Names that reach an object's prototype when used as keys: `--set __proto__.x=1` would set `x`
 * on every object, and a config file's own `__proto__` key pollutes whatever merges it later.
 */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** The settings a config file (or `--set`) gives a job run. */
export const jobConfigSchema = z.strictObject({
  appName: z.string().min(1).optional().describe("the job's name in logs and idempotency keys"),
  master: z
    .string()
    .regex(/^local(\[([1-9]\d*|\*)\])?$/)
    .optional()
    .describe('"local", "local[N]" or "local[*]"'),
  batchInterval: z
    // Any number (YAML's .inf too) reaches parseDuration, whose message names the allowed range.
    .custom<number | string>((value) => typeof value === "number" || typeof value === "string")
    .superRefine((value, context) => {
      // The range check of every duration (a timer cannot hold more than about 24.8 days).
      try {
        parseDuration(value as Duration, "batchInterval");
      } catch (error) {
        context.addIssue({
          code: "custom",
          message: reason(error).replace(/^batchInterval: /, ""),
        });
      }
    })
    .optional()
    .describe('milliseconds or a duration such as "500ms", "2s"'),
  checkpoint: z.string().min(1).optional().describe("a directory for checkpoints"),
  plugins: z
    .array(z.string().min(1))
    .optional()
    .describe("npm packages exporting connector plugins"),
  ui: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.int().min(0).max(65_535),
      token: z.string().min(16).optional(),
      metricsOnly: z.boolean().optional(),
    })
    .optional()
    .describe(
      "the web UI and /metrics: { port, host (127.0.0.1 unless given), token (required off loopback, 16+ characters; SLUICE_UI_TOKEN overrides it), metricsOnly }",
    ),
  cluster: z
    .strictObject({
      kafka: z.strictObject({
        brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be "host:port"')).min(1),
        tls: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
        sasl: z
          .strictObject({
            mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
            username: z.string().min(1),
            password: z.string().min(1),
          })
          .optional(),
      }),
      group: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
      processId: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,200}$/)
        .optional(),
      keyedPartitions: z.number().int().min(1).max(10_000).optional(),
    })
    .optional()
    .describe(
      'run as one process of a cluster: { kafka: { brokers, tls, sasl }, group: "<job id>", processId, keyedPartitions } (docs/cluster.md)',
    ),
  job: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("the job's own settings, passed to its build function"),
});

/** A validated run configuration. */
export type JobConfig = z.output<typeof jobConfigSchema>;

/**
 * Reads a YAML or JSON config file (or none), applies `--set path=value` overrides, and returns
 * the raw object; `validateJobConfig` checks it. `${env:NAME}` and `${file:path}` in values (of
 * the file and of `--set`) are replaced by the variable or the file's text (a relative path starts
 * at the config file's folder, for `--set` at the current one); those values are redacted
 * wherever Sluice prints. A reference that cannot be resolved is an error naming the setting and
 * the variable or file.
 *
 * @example
 * const raw = await readJobConfig("production.yaml", ["job.threshold=40"]);
 */
export async function readJobConfig(
  file: string | undefined,
  overrides: readonly string[],
): Promise<Record<string, unknown>> {
  let config: Record<string, unknown> = {};
  const unresolved: UnresolvedReference[] = [];
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new CliError(`cannot read the config file ${file}: ${reason(error)}`, 2, {
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new CliError(
        `the config file ${file} is not valid YAML/JSON: ${parseReason(error)}`,
        2,
        {
          cause: error,
        },
      );
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new CliError(`the config file ${file} must hold a mapping of settings`, 2);
      }
      rejectUnsafeKeys(parsed, `the config file ${file}`, []);
      config = (await resolveConfigReferences(
        parsed,
        { baseDirectory: dirname(resolve(file)) },
        [],
        unresolved,
      )) as Record<string, unknown>;
    }
  }
  for (const override of overrides) {
    const { path, value } = parseOverride(override);
    const resolved = await resolveConfigReferences(
      value,
      { baseDirectory: process.cwd() },
      path,
      unresolved,
    );
    applyOverride(config, path, resolved);
  }
  if (unresolved.length > 0) {
    const error = new ConfigReferenceError(file ?? "the settings", unresolved);
    throw new CliError(error.message, 2, { cause: error });
  }
  return config;
}

/**
 * Checks a raw configuration, listing every problem at once with its path.
 *
 * @example
 * const { config, problems } = validateJobConfig({ master: "local[x]" });
 */
export function validateJobConfig(raw: unknown): {
  readonly config: JobConfig | undefined;
  readonly problems: readonly string[];
} {
  const result = jobConfigSchema.safeParse(raw);
  if (result.success) return { config: result.data, problems: [] };
  const problems = result.error.issues.flatMap((issue) => {
    // A misspelt setting is named by itself, with the one meant (or the ones there are).
    if (issue.code === "unrecognized_keys") {
      return describeIssues(jobConfigSchema, raw, [issue]).map(
        ({ path, hint }) =>
          `${path}: unknown setting. ${hint ?? ""}${issue.path.length === 0 ? " A job's own settings go under job." : ""}`,
      );
    }
    const path = issue.path.length === 0 ? "(config)" : issue.path.map(String).join(".");
    const field = issue.path[0];
    // A custom check's message already says what to write (a duration's, for one).
    const hint =
      issue.code !== "custom" && typeof field === "string" && field in jobConfigSchema.shape
        ? jobConfigSchema.shape[field as keyof typeof jobConfigSchema.shape].description
        : undefined;
    return [`${path}: ${issue.message}${hint === undefined ? "" : ` (${hint})`}`];
  });
  return { config: undefined, problems };
}

/** Splits `a.b.c=value`; the value is read as YAML, so numbers and booleans work. */
function parseOverride(override: string): { path: string[]; value: unknown } {
  const equals = override.indexOf("=");
  if (equals <= 0) {
    throw new CliError(`--set takes path=value, got "${override}"`, 2);
  }
  const path = override.slice(0, equals).split(".");
  for (const key of path) {
    if (key === "") {
      throw new CliError(`--set: empty name in the path "${override.slice(0, equals)}"`, 2);
    }
    if (UNSAFE_KEYS.has(key)) {
      throw new CliError(
        `--set: "${key}" is not allowed in a path (it would change every object's prototype), got "${override.slice(0, equals)}=…"`,
        2,
      );
    }
  }
  const value: unknown = parseYaml(override.slice(equals + 1));
  rejectUnsafeKeys(value, "--set", path);
  return { path, value };
}

/** Sets the setting at `path` in `config`, creating the mappings on the way. */
function applyOverride(
  config: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): void {
  let target = config;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      target[key] = value;
      return;
    }
    // Only own settings are walked into: an inherited one is never a setting.
    const next = Object.hasOwn(target, key) ? target[key] : undefined;
    if (typeof next === "object" && next !== null && !Array.isArray(next)) {
      target = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      target[key] = created;
      target = created;
    }
  }
}

/**
 * Throws a `CliError` naming the first key on `UNSAFE_KEYS` anywhere in `value` (parsed YAML or
 * JSON, whose `__proto__` keys are own properties that later merges would turn into prototypes).
 */
function rejectUnsafeKeys(value: unknown, where: string, path: readonly string[]): void {
  if (typeof value !== "object" || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const at = Array.isArray(value)
      ? [...path.slice(0, -1), `${path.at(-1) ?? ""}[${key}]`]
      : [...path, key];
    if (!Array.isArray(value) && UNSAFE_KEYS.has(key)) {
      throw new CliError(
        `${where}: the setting name "${key}" is not allowed (at ${at.join(".")}); it would change every object's prototype`,
        2,
      );
    }
    rejectUnsafeKeys(child, where, at);
  }
}

/**
 * Why a config file did not parse, without quoting it: Node's JSON errors show the text around
 * the fault (`..."assword": hunter2-se"... is not valid JSON`), which may be a secret; YAML's
 * first line gives the line and column only.
 */
function parseReason(error: unknown): string {
  return reason(error).replace(
    /,? *(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/,
    " (not valid JSON)",
  );
}

function reason(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}
