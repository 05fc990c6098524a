import type { SluiceError } from "../errors/sluice-error.js";
import { connectorsOf } from "../plugins/connectors-of.js";
import { redactText } from "../util/redact-text.js";
import { CliError } from "./cli-error.js";
import { collectConfigProblems } from "./config-problem-collector.js";
import { readJobConfig, validateJobConfig } from "./job-config.js";
import { buildJobContext } from "./load-job.js";
import type { JobFlags } from "./parse-args.js";
import type { CliIo } from "./run-command.js";

/**
 * `sluice check`: validates the config and builds the job's graph (which validates every
 * connector's config) without starting anything; lists every problem found at once: the
 * settings', then every connector's invalid config, then what else stopped the build.
 *
 * @example
 * process.exitCode = await checkCommand("job.ts", flags, io);
 */
export async function checkCommand(jobFile: string, flags: JobFlags, io: CliIo): Promise<number> {
  const raw = await readJobConfig(flags.config, flags.set);
  const { config, problems } = validateJobConfig(raw);
  const found = [...problems];
  // The graph is built even when the settings have problems, so its own errors are listed too;
  // settings that failed validation fall back to the defaults.
  const usable = config ?? { job: jobSection(raw) };
  let connectorProblems: readonly SluiceError[] = [];
  try {
    const ctx = await buildJobContext(jobFile, flags, usable, {
      beforeBuild: (built) => {
        connectorProblems = collectConfigProblems(connectorsOf(built));
      },
    });
    await ctx.stop();
    found.push(...connectorProblems.map(buildProblem));
  } catch (error) {
    if (error instanceof CliError && error.exitCode === 2 && found.length === 0) throw error;
    // The connectors checked before the build stopped are reported too.
    found.push(...connectorProblems.map(buildProblem), buildProblem(error));
  }
  if (found.length > 0) {
    // A job's own errors and a plugin's may quote the settings they were given.
    throw new CliError(
      redactText(
        `${jobFile}: ${found.length} problem${found.length === 1 ? "" : "s"}:\n  ${found.join("\n  ")}`,
      ),
      2,
    );
  }
  io.stdout.write(`${jobFile}: the config and the job's graph are valid\n`);
  return 0;
}

function jobSection(raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const job = raw.job;
  return typeof job === "object" && job !== null && !Array.isArray(job)
    ? (job as Record<string, unknown>)
    : undefined;
}

function buildProblem(error: unknown): string {
  const cause = error instanceof CliError && error.cause !== undefined ? error.cause : error;
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.replaceAll("\n", "\n  ");
}
