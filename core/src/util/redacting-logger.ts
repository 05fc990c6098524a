import type { Logger } from "pino";
import { redactText } from "./redact-text.js";

const LEVELS: ReadonlySet<string | symbol> = new Set([
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
]);
// Deep enough for a log call's fields (an error's cause's cause), shallow enough to stay cheap.
const MAX_DEPTH = 6;

/**
 * `logger` with every string a log call hands it redacted as `redactText` does (URL user-info,
 * PEM blocks, registered secret values): messages, fields of plain objects and arrays, errors'
 * messages and stacks (and their causes), and the bindings of its children. Sluice's own logger
 * redacts whole lines as pino writes them; a logger the application passes in has its own
 * destination and hooks, so its calls are redacted on the way in instead. Calls below the
 * logger's level cost one level check.
 *
 * @example
 * const logger = redactingLogger(pino());
 * logger.warn("connect amqp://app:secret@broker failed"); // "connect amqp://[redacted]@broker failed"
 */
export function redactingLogger(logger: Logger): Logger {
  return new Proxy(logger, {
    get(target, property, receiver) {
      if (LEVELS.has(property)) {
        const level = property as "info";
        return (...args: unknown[]) => {
          if (!target.isLevelEnabled(level)) return;
          (target[level] as (...values: unknown[]) => void)(
            ...args.map((arg) => redacted(arg, 0, new WeakSet())),
          );
        };
      }
      if (property === "child") {
        return (bindings: Record<string, unknown>, options?: object) =>
          redactingLogger(
            target.child(redacted(bindings, 0, new WeakSet()) as Record<string, unknown>, options),
          );
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function redacted(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (value instanceof Error) return redactedError(value, depth, seen);
  if (Array.isArray(value)) return value.map((item) => redacted(item, depth + 1, seen));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, redacted(item, depth + 1, seen)]),
  );
}

// A copy of the same class, so pino's error serializer still sees an Error.
function redactedError(error: Error, depth: number, seen: WeakSet<object>): Error {
  const copy = Object.create(Object.getPrototypeOf(error)) as Error;
  for (const [key, item] of Object.entries(error)) {
    (copy as unknown as Record<string, unknown>)[key] = redacted(item, depth + 1, seen);
  }
  for (const key of ["message", "stack"] as const) {
    const text = error[key];
    if (typeof text === "string") {
      Object.defineProperty(copy, key, {
        value: redactText(text),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
  }
  if (error.cause !== undefined) {
    Object.defineProperty(copy, "cause", {
      value: redacted(error.cause, depth + 1, seen),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return copy;
}
