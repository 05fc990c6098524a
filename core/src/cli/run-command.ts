import type { StreamingContext } from "../context/streaming-context.js";
import { CliError } from "./cli-error.js";
import { type JobConfig, readJobConfig, validateJobConfig } from "./job-config.js";
import { buildJobContext } from "./load-job.js";
import type { JobFlags } from "./parse-args.js";
import { type ProgressMode, ProgressReporter } from "./progress-reporter.js";

/** Streams and signals the command uses; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): void };
  readonly stderr: { write(text: string): void; readonly isTTY?: boolean };
  /** Subscribes to SIGINT/SIGTERM; returns the unsubscribe function. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/**
 * Reads and validates the run configuration, listing every problem at once.
 *
 * @example
 * const config = await loadValidConfig(flags);
 */
export async function loadValidConfig(flags: {
  readonly config: string | undefined;
  readonly set: readonly string[];
}): Promise<JobConfig> {
  const raw = await readJobConfig(flags.config, flags.set);
  const { config, problems } = validateJobConfig(raw);
  if (config === undefined) {
    const where = flags.config === undefined ? "the settings" : flags.config;
    throw new CliError(
      `${where} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`,
      2,
    );
  }
  return config;
}

/**
 * `sluice run`: builds the job, starts it, shows progress, and stops gracefully on the first
 * SIGINT/SIGTERM (at once on the second) or when every input has ended. Resolves to the exit code.
 *
 * @example
 * process.exitCode = await runCommand("job.ts", flags, io);
 */
export async function runCommand(jobFile: string, flags: JobFlags, io: CliIo): Promise<number> {
  const config = await loadValidConfig(flags);
  const ctx = await buildJobContext(jobFile, flags, config);
  const mode: ProgressMode = flags.json ? "json" : io.stderr.isTTY ? "status-line" : "lines";
  const reporter = new ProgressReporter(mode, ctx.batchInterval, io.stderr);
  ctx.addListener(reporter);
  ctx.addListener({
    onBatchCompleted: () => {
      if (ctx.inputsEnded) void ctx.stop({ graceful: true });
    },
  });
  let signals = 0;
  const unsubscribe = io.onSignal((signal) => {
    signals++;
    if (signals === 1) {
      io.stderr.write(`\n${signal}: stopping after the data already received; again to stop now\n`);
      void ctx.stop({ graceful: true });
    } else {
      io.stderr.write(`\n${signal}: stopping now\n`);
      void ctx.stop({ graceful: false });
    }
  });
  try {
    await startAndAwait(ctx);
  } finally {
    unsubscribe();
    reporter.finish();
  }
  const totals = reporter.totals();
  const summary = {
    event: "stopped",
    app: ctx.appName,
    batches: totals.batches,
    recordsIn: totals.recordsIn,
  };
  io.stderr.write(
    flags.json
      ? `${JSON.stringify(summary)}\n`
      : `${ctx.appName}: stopped after ${totals.batches} batches, ${totals.recordsIn} records in\n`,
  );
  return 0;
}

async function startAndAwait(ctx: StreamingContext): Promise<void> {
  try {
    await ctx.start();
    await ctx.awaitTermination();
  } catch (error) {
    await ctx.stop().catch(() => undefined);
    throw new CliError(
      `the job failed: ${error instanceof Error ? error.message : String(error)}`,
      1,
      {
        cause: error,
      },
    );
  }
}
