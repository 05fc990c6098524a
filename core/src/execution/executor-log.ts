import { pino } from "pino";

let logger: pino.Logger | undefined;

/**
 * Logs a warning about executors (pino logger "sluice"; silent under tests unless
 * `SLUICE_LOG_LEVEL` says otherwise), as the kernels' choice is logged.
 *
 * @example
 * warnExecutors({ requested: 4 }, "the job was built inline: running on the main thread");
 */
export function warnExecutors(fields: Record<string, unknown>, message: string): void {
  if (logger === undefined) {
    const env = process.env;
    const level = env.SLUICE_LOG_LEVEL ?? (env.NODE_ENV === "test" ? "silent" : "info");
    logger = pino({ name: "sluice", level });
  }
  logger.warn(fields, `executors: ${message}`);
}
