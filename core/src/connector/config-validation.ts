import { z } from "zod";
import { SluiceError } from "../errors/sluice-error.js";
import { MAX_DURATION_MS } from "../util/duration.js";
import { redactText } from "../util/redact-text.js";
import { editDistance } from "./edit-distance.js";
import { formatConfig, REDACTED, redactConfig, registerSecretFields } from "./redact.js";
import { type AnySchema, descriptionOf, knownFieldNames, schemasAtPath } from "./schema-walk.js";
import { isSecret } from "./secret.js";

/** One invalid field: where it is, what is wrong, and what to do about it. */
export interface ConfigIssue {
  /** `brokers[0].port`; `(config)` for the config as a whole. */
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

/**
 * A config that failed its schema; `issues` lists every invalid field at once, and the message
 * shows each with a hint. Secret values are never part of it.
 *
 * @example
 * try { registry.createSource("file", {}); } catch (error) {
 *   if (error instanceof ConfigValidationError) for (const issue of error.issues) console.log(issue.path);
 * }
 */
export class ConfigValidationError extends SluiceError {
  readonly issues: readonly ConfigIssue[];

  constructor(subject: string, given: readonly ConfigIssue[], redactedConfig: string) {
    // A refinement's message may quote what it was given; hints are the schema's own words.
    const issues = given.map((issue) => ({ ...issue, message: redactText(issue.message) }));
    const lines = issues.map(
      (issue) => `  - ${issue.path}: ${issue.message}${issue.hint ? ` Hint: ${issue.hint}` : ""}`,
    );
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(
      "SLUICE_INVALID_CONFIG",
      `Invalid config for ${subject} (${count}):\n${lines.join("\n")}\nConfig given: ${redactedConfig}`,
    );
    this.name = "ConfigValidationError";
    this.issues = issues;
  }
}

/**
 * A config field of milliseconds that ends up as a timer: a whole number from `min` (default 1) to
 * 2^31 - 1 (about 24.8 days); longer ones would fire after 1 ms, so they are refused.
 *
 * @example
 * const schema = z.strictObject({ connectTimeoutMs: timerMs().default(10_000) });
 */
export function timerMs(min = 1): z.ZodInt {
  return z
    .int()
    .min(min)
    .max(
      MAX_DURATION_MS,
      `must be at most ${MAX_DURATION_MS} ms (about 24.8 days, the longest a timer can wait)`,
    );
}

/**
 * Parses `input` with `schema`, or throws a `ConfigValidationError` listing every invalid field
 * with its path and a hint. `subject` names what is configured, e.g. `source "file"`. The values
 * of its secret fields are registered as secret (`registerSecretFields`): `redactText` hides them
 * in any message from then on.
 *
 * @example
 * const config = validateConfig(schema, { directory: "in" }, 'source "file"');
 */
export function validateConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  subject: string,
): z.output<S> {
  // From here on a client library's message quoting a secret is redacted like the field.
  registerSecretFields(schema, input);
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  throw new ConfigValidationError(
    subject,
    describeIssues(schema, input, result.error.issues),
    formatConfig(schema, input),
  );
}

/**
 * Turns zod issues into `ConfigIssue`s: one per field (unknown keys split up), with what was
 * given (unless secret) and a hint from the field's description or a "did you mean".
 *
 * @example
 * const issues = describeIssues(schema, input, z.safeParse(schema, input).error?.issues ?? []);
 */
export function describeIssues(
  schema: AnySchema,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
): ConfigIssue[] {
  const redacted = redactConfig(schema, input);
  const described: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownFieldNames(schemasAtPath(schema, issue.path));
      for (const key of issue.keys) {
        const suggestion = closestName(key, known);
        described.push({
          path: formatPath([...issue.path, key]),
          message: "Unknown field.",
          hint: suggestion
            ? `Did you mean "${suggestion}"?`
            : known.length > 0
              ? `Remove it; known fields here: ${known.join(", ")}.`
              : "Remove it.",
        });
      }
      continue;
    }
    const schemas = schemasAtPath(schema, issue.path);
    const given = valueAt(input, issue.path);
    const missing = given === undefined && issue.code === "invalid_type";
    const shown = valueAt(redacted, issue.path);
    const secretField = schemas.some(isSecret) || shown === REDACTED;
    const message = sentence(issue.message) + (missing || secretField ? "" : givenText(shown));
    const description = descriptionOf(schemas);
    const hint = missing
      ? `this field is required${description ? `: ${description}` : "."}`
      : description;
    described.push({
      path: formatPath(issue.path),
      message,
      ...(hint ? { hint: sentence(hint) } : {}),
    });
  }
  return described;
}

/** `["brokers", 0, "port"]` → `brokers[0].port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(config)";
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment)) {
      text += text.length === 0 ? segment : `.${segment}`;
    } else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function givenText(value: unknown): string {
  if (value === undefined) return "";
  let text: string;
  try {
    text =
      typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return ` Got ${text}.`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capitalised = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance =
      candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : undefined;
}
