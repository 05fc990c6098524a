import { pino } from "pino";

const loggers = new Map<string, pino.Logger>();

/**
 * Sluice's pino logger "sluice", writing to stderr so logs never mix with a job's output on
 * stdout. The level is `SLUICE_LOG_LEVEL`, else `defaultLevel` ("silent" under tests).
 *
 * @example
 * sluiceLogger("warn").warn({ source: "kafka#0" }, "reconnecting");
 */
export function sluiceLogger(
  defaultLevel: pino.LevelWithSilent = "info",
  env: NodeJS.ProcessEnv = process.env,
): pino.Logger {
  const level = env.SLUICE_LOG_LEVEL ?? (env.NODE_ENV === "test" ? "silent" : defaultLevel);
  let logger = loggers.get(level);
  if (logger === undefined) {
    logger = pino({ name: "sluice", level }, pino.destination({ fd: 2, sync: true }));
    loggers.set(level, logger);
  }
  return logger;
}
