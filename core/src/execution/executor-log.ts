import { sluiceLogger } from "../util/logger.js";

/**
 * Logs a warning about executors (pino logger "sluice"; silent under tests unless
 * `SLUICE_LOG_LEVEL` says otherwise), as the kernels' choice is logged.
 *
 * @example
 * warnExecutors({ requested: 4 }, "the job was built inline: running on the main thread");
 */
export function warnExecutors(fields: Record<string, unknown>, message: string): void {
  sluiceLogger("info").warn(fields, `executors: ${message}`);
}
