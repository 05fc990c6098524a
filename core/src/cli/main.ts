#!/usr/bin/env node
import { logFormatOf, logLevelOf } from "../util/logger.js";
import { redactText } from "../util/redact-text.js";
import { checkCommand } from "./check-command.js";
import { CliError } from "./cli-error.js";
import { connectorsCommand } from "./connectors-command.js";
import { NEW_USAGE, newCommand } from "./new-command.js";
import { type CommonFlags, parseCommandLine, USAGE } from "./parse-args.js";
import { type CliIo, runCommand } from "./run-command.js";

/**
 * Runs the `sluice` command line and resolves to the exit code; errors become one line on
 * stderr (with the stack under `--verbose`).
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo());
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes("--verbose");
  try {
    // `new` writes files and has options of its own: the job commands' parser never sees it.
    if (argv[0] === "new" && !argv.includes("--help") && !argv.includes("-h")) {
      return await newCommand(argv.slice(1), io);
    }
    const command = parseCommandLine(argv);
    if (command.command !== "help") applyLogFlags(command.flags, verbose);
    switch (command.command) {
      case "help":
        io.stdout.write(`${USAGE}\n${NEW_USAGE}\n`);
        return 0;
      case "connectors":
        return await connectorsCommand(command.flags, io);
      case "check":
        return await checkCommand(command.job, command.flags, io);
      case "run":
        return await runCommand(command.job, command.flags, io);
    }
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    // A connector's or a job's error may quote a URL or a value from a reference.
    const text = redactText(error instanceof Error ? error.message : String(error));
    io.stderr.write(`sluice: ${text}\n`);
    if (verbose) io.stderr.write(`${redactText(describeStack(error))}\n`);
    return exitCode;
  }
}

/** The CLI's streams and signals in a real process. */
export function processIo(): CliIo {
  // Output piped into `head` and the like: a closed pipe ends the command quietly.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal: (handler) => {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    exit: (code) => process.exit(code),
  };
}

/**
 * Sets how every logger of the process (the core's and connectors') writes to stderr. Connectors'
 * retry warnings would bury the CLI's own one-line report: only errors are logged unless asked
 * (`--log-level`, `SLUICE_LOG_LEVEL`, or `--verbose` for everything down to debug).
 */
function applyLogFlags(flags: CommonFlags, verbose: boolean): void {
  try {
    if (flags.logLevel !== undefined) {
      process.env.SLUICE_LOG_LEVEL = logLevelOf(flags.logLevel, "--log-level");
    } else if (process.env.SLUICE_LOG_LEVEL !== undefined) {
      logLevelOf(process.env.SLUICE_LOG_LEVEL, "SLUICE_LOG_LEVEL");
    }
    if (flags.log !== undefined) process.env.SLUICE_LOG_FORMAT = logFormatOf(flags.log, "--log");
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
  process.env.SLUICE_LOG_LEVEL ??= verbose ? "debug" : "error";
}

function describeStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && parts.length < 8) {
    parts.push(current.stack ?? current.message);
    current = current.cause;
  }
  return parts.join("\ncaused by: ");
}
