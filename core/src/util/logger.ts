import { pino } from "pino";
import pinoPretty from "pino-pretty";
import { SluiceError } from "../errors/sluice-error.js";
import { redactText } from "./redact-text.js";

/** The levels `SLUICE_LOG_LEVEL` and `--log-level` take, most to least severe. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** How log lines look: pino's JSON lines, or a readable form for terminals. */
export type LogFormat = "json" | "pretty";

// One logger per level and format, shared by every context of the process: each holds a
// destination on fd 2, and a new one per context would open a new writer each time. A pure
// cache: the key says everything about the logger it holds.
const loggers = new Map<string, pino.Logger>();

// A JSON string literal in a log line, escapes included.
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * Sluice's pino logger "sluice", writing to stderr so logs never mix with a job's output on
 * stdout; connectors get children of it as `context.logger`. The level is `SLUICE_LOG_LEVEL`,
 * else `defaultLevel` ("silent" under tests); the format is `SLUICE_LOG_FORMAT` (`json`, the
 * default, or `pretty`).
 *
 * @example
 * sluiceLogger("warn").warn({ source: "kafka#0" }, "reconnecting");
 */
export function sluiceLogger(
  defaultLevel: pino.LevelWithSilent = "info",
  env: NodeJS.ProcessEnv = process.env,
): pino.Logger {
  const level = logLevelOf(
    env.SLUICE_LOG_LEVEL ?? (env.NODE_ENV === "test" ? "silent" : defaultLevel),
    "SLUICE_LOG_LEVEL",
  );
  const format = logFormatOf(env.SLUICE_LOG_FORMAT ?? "json", "SLUICE_LOG_FORMAT");
  const key = `${level}/${format}`;
  let logger = loggers.get(key);
  if (logger === undefined) {
    const destination =
      format === "pretty"
        ? pinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true })
        : pino.destination({ fd: 2, sync: true });
    // Every line of the core and of connectors (children of this logger) is redacted as it is
    // written: messages, fields, errors' messages and stacks alike.
    logger = pino({ name: "sluice", level, hooks: { streamWrite: redactLogLine } }, destination);
    loggers.set(key, logger);
  }
  return logger;
}

/**
 * A pino log line (JSON) with the secrets in its strings redacted as `redactText` does: a URL's
 * user-info, PEM blocks, registered secret values. Each string is redacted on its own, so the
 * line stays valid JSON even when a PEM block is cut off inside one.
 *
 * @example
 * redactLogLine('{"msg":"connect amqp://app:pw@broker"}\n'); // '{"msg":"connect amqp://[redacted]@broker"}\n'
 */
export function redactLogLine(line: string): string {
  return line.replace(JSON_STRING, (literal) => `"${redactText(literal.slice(1, -1))}"`);
}

/**
 * Checks a log level's name; `field` names where it came from in the error.
 *
 * @example
 * logLevelOf("debug", "--log-level"); // "debug"
 */
export function logLevelOf(value: string, field: string): pino.LevelWithSilent {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as pino.LevelWithSilent;
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `${field} must be one of ${LOG_LEVELS.join(", ")}; got "${value}"`,
  );
}

/**
 * Checks a log format's name; `field` names where it came from in the error.
 *
 * @example
 * logFormatOf("pretty", "--log"); // "pretty"
 */
export function logFormatOf(value: string, field: string): LogFormat {
  const format = value.trim().toLowerCase();
  if (format === "json" || format === "pretty") return format;
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `${field} must be "json" or "pretty"; got "${value}"`,
  );
}
