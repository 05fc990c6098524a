import { constants } from "node:os";
import type { StreamingContext } from "../context/streaming-context.js";
import { startUi, type UiHandle } from "../observability/start-ui.js";
import { parseUiAddress, type UiOptions } from "../observability/ui-options.js";
import type { StreamingListener } from "../scheduler/listener.js";
import { type Duration, parseDuration } from "../util/duration.js";
import { registerSecretValue } from "../util/secret-values.js";
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
  /** The environment (`SLUICE_UI_TOKEN`); the process's own when absent. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Ends the process at once with `code` (a second signal does); without it a second signal
   * only stops the job without waiting for its batches, which a hung output can still hold up.
   */
  readonly exit?: (code: number) => void;
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
    const where = flags.config === undefined ? "the --set settings have" : `${flags.config} has`;
    throw new CliError(
      `${where} ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`,
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
  // Whoever holds the UI's token reads the job's UI: redacted in all text from the first log on.
  const uiToken = (io.env ?? process.env).SLUICE_UI_TOKEN ?? config.ui?.token;
  if (uiToken !== undefined) registerSecretValue(uiToken);
  const ctx = await buildJobContext(jobFile, flags, config);
  const mode: ProgressMode = flags.json ? "json" : io.stderr.isTTY ? "status-line" : "lines";
  const reporter = new ProgressReporter(mode, ctx.batchInterval, io.stderr);
  // Started before the job, so a UI that may not listen stops the run before anything is read.
  const ui = await serveUi(ctx, flags, config, io.env ?? process.env);
  if (ui !== undefined) reporter.showAddress(ui.address, ui.metricsOnly);
  ctx.addListener(reporter);
  const cluster = ctx.cluster;
  // The partitions the group gave this process, shown whenever a rebalance changes them.
  const stopShowingPartitions = cluster?.onPartitions((partitions) => {
    reporter.showPartitions(partitions);
    reporter.note(
      `cluster ${cluster.group}, process ${cluster.processId}: partitions ${partitions.length === 0 ? "(none)" : partitions.join(", ")}`,
    );
  });
  ctx.addListener({
    onBatchCompleted: () => {
      if (ctx.inputsEnded) void ctx.stop({ graceful: true });
    },
  });
  const connectTimeoutMs = durationFlag(flags.connectTimeout ?? "30s", "--connect-timeout");
  const sourceFailures = watchSourceConnections(ctx, reporter, connectTimeoutMs);
  let signals = 0;
  const unsubscribe = io.onSignal((signal) => {
    signals++;
    if (signals === 1) {
      io.stderr.write(`\n${signal}: stopping after the data already received; again to stop now\n`);
      void ctx.stop({ graceful: true });
    } else {
      // At once, as promised: the graceful stop may wait on a batch whose output never answers,
      // and a stop without it would wait for that batch too. Nothing is lost by leaving: the
      // checkpoint, the batch records and the write-ahead log cover what was not committed.
      io.stderr.write(`\n${signal}: stopping now; ${afterImmediateStop(ctx)}\n`);
      if (io.exit !== undefined) io.exit(128 + (constants.signals[signal] ?? 0));
      else void ctx.stop({ graceful: false });
    }
  });
  try {
    await startAndAwait(ctx);
  } finally {
    unsubscribe();
    stopShowingPartitions?.();
    sourceFailures.dispose();
    reporter.finish();
    await ui?.handle.close();
  }
  const failure = sourceFailures.failure();
  if (failure !== undefined) throw new CliError(failure, 1);
  const totals = reporter.totals();
  const summary = {
    event: "stopped",
    app: ctx.appName,
    batches: totals.batches,
    recordsIn: totals.recordsIn,
    recordsOut: totals.recordsOut,
  };
  io.stderr.write(
    flags.json
      ? `${JSON.stringify(summary)}\n`
      : `${ctx.appName}: stopped after ${totals.batches} batches, ${totals.recordsIn} records in, ${totals.recordsOut} out\n`,
  );
  return 0;
}

/**
 * Starts the web UI (`--ui`, or `ui` in the config) or the metrics endpoint alone (`--metrics`);
 * the token comes from `SLUICE_UI_TOKEN`, else the config. A UI that cannot start (no token
 * off loopback, a port in use) fails the run before the job starts.
 */
async function serveUi(
  ctx: StreamingContext,
  flags: JobFlags,
  config: JobConfig,
  env: NodeJS.ProcessEnv,
): Promise<{ handle: UiHandle; address: string; metricsOnly: boolean } | undefined> {
  if (flags.ui !== undefined && flags.metrics !== undefined) {
    throw new CliError("give --ui or --metrics, not both: the UI serves /metrics too", 2);
  }
  const flag =
    flags.ui !== undefined ? "--ui" : flags.metrics !== undefined ? "--metrics" : undefined;
  const fromConfig = config.ui;
  if (flag === undefined && fromConfig === undefined) return undefined;
  let options: UiOptions;
  try {
    const address =
      flag === undefined ? undefined : parseUiAddress(flags.ui ?? flags.metrics ?? "", flag);
    const host = address === undefined ? fromConfig?.host : (address.host ?? fromConfig?.host);
    const token = env.SLUICE_UI_TOKEN ?? fromConfig?.token;
    options = {
      port: address?.port ?? fromConfig?.port ?? 0,
      metricsOnly: flag === undefined ? (fromConfig?.metricsOnly ?? false) : flag === "--metrics",
      ...(host === undefined ? {} : { host }),
      ...(token === undefined ? {} : { token }),
    };
    const handle = await startUi(ctx, options);
    return { handle, address: handle.url, metricsOnly: options.metricsOnly ?? false };
  } catch (error) {
    await ctx.stop().catch(() => undefined);
    throw new CliError(error instanceof Error ? error.message : String(error), 2, { cause: error });
  }
}

/**
 * Shows sources' errors as they happen, and stops the job when a source that never connected
 * still fails after `timeoutMs` (an unreachable broker fails the run instead of idling).
 */
function watchSourceConnections(
  ctx: StreamingContext,
  reporter: ProgressReporter,
  timeoutMs: number,
): { failure(): string | undefined; dispose(): void } {
  const connected = new Set<number>();
  const lastShown = new Map<number, string>();
  const neverConnected = new Map<number, string>();
  let failure: string | undefined;
  let expired = false;
  const fail = (reason: string): void => {
    if (failure !== undefined) return;
    failure = `a source could not connect within ${timeoutMs / 1000} s: ${reason}`;
    void ctx.stop();
  };
  const listener: StreamingListener = {
    onReceiverStarted: (info) => {
      connected.add(info.streamId);
      neverConnected.delete(info.streamId);
    },
    onReceiverError: (info) => {
      // Repeated attempts fail the same way: show a message once until it changes.
      const shown = info.lastErrorMessage.replace(/\(attempt \d+\)/, "");
      if (lastShown.get(info.streamId) !== shown) {
        lastShown.set(info.streamId, shown);
        reporter.note(`source ${info.name}: ${info.lastErrorMessage}`);
      }
      if (!connected.has(info.streamId)) {
        neverConnected.set(info.streamId, `${info.name}: ${info.lastErrorMessage}`);
        // A client that retries on its own may report its first failure only after the timeout.
        if (expired) fail(`${info.name}: ${info.lastErrorMessage}`);
      }
    },
  };
  ctx.addListener(listener);
  const timer = setTimeout(() => {
    expired = true;
    const [first] = neverConnected.values();
    if (first !== undefined) fail(first);
  }, timeoutMs);
  timer.unref();
  return {
    failure: () => failure,
    dispose: () => {
      clearTimeout(timer);
      ctx.removeListener(listener);
    },
  };
}

/** What a stop that does not wait for the batches in progress leaves to the next run. */
function afterImmediateStop(ctx: StreamingContext): string {
  return ctx.checkpointDirectory === undefined
    ? "records received but not yet output are not kept without --checkpoint"
    : "the next run replays what was not checkpointed";
}

function durationFlag(value: string, flag: string): number {
  try {
    return parseDuration(value as Duration, flag);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
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
