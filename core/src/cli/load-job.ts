import { access } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { clusterOfRun } from "../cluster/cluster-flag.js";
import type { StreamingContextOptions } from "../context/context-options.js";
import { StreamingContext } from "../context/streaming-context.js";
import { SluiceError } from "../errors/sluice-error.js";
import { type CreateJobContextHooks, createJobContext } from "../job/create-job-context.js";
import { type Duration, parseDuration } from "../util/duration.js";
import { CliError } from "./cli-error.js";
import { type JobConfig, jobConfigSchema } from "./job-config.js";
import { commonJsJobHint } from "./job-module-format.js";
import type { JobFlags } from "./parse-args.js";

let typeScriptRegistered = false;

/**
 * Loads a job file (TypeScript files run directly) and builds its graph on a new context with
 * the settings of the command line, then the config file, then the defaults. The job's own
 * plugins (`defineJob({ plugins })`) and the config's `plugins` are registered first; `hooks`
 * reach the context before the graph is built.
 *
 * @example
 * const ctx = await buildJobContext("jobs/word-count.ts", flags, config);
 */
export async function buildJobContext(
  jobFile: string,
  flags: JobFlags,
  config: JobConfig,
  hooks: CreateJobContextHooks = {},
): Promise<StreamingContext> {
  // Flags first: a typo in one is reported before anything is loaded.
  const master = masterFlag(flags.master) ?? config.master;
  const path = resolve(jobFile);
  try {
    await access(path);
  } catch {
    throw new CliError(`job file not found: ${jobFile}`, 2);
  }
  const binRegistered = (globalThis as { __sluiceTypeScriptRegistered?: boolean })
    .__sluiceTypeScriptRegistered;
  if ([".ts", ".mts", ".cts"].includes(extname(path)) && !typeScriptRegistered && !binRegistered) {
    // Registers tsx's loader in this process; executors start with `--import tsx` on their own.
    const { register } = await import("tsx/esm/api");
    register();
    typeScriptRegistered = true;
  }
  const options: StreamingContextOptions = {
    batchInterval: batchIntervalMs(flags.batch ?? config.batchInterval ?? "1s"),
    appName: config.appName ?? defaultAppName(path),
    ...optional("master", master),
    ...optional("checkpoint", flags.checkpoint ?? config.checkpoint),
    ...optional("cluster", clusterFlag(flags.cluster, config.cluster)),
  };
  try {
    const create = (): Promise<StreamingContext> =>
      createJobContext(
        {
          module: pathToFileURL(path),
          args: config.job ?? {},
          ...optional("plugins", config.plugins),
        },
        options,
        hooks,
      );
    // With a checkpoint directory the run resumes where the last one stopped (Spark's getOrCreate).
    return options.checkpoint === undefined
      ? await create()
      : await StreamingContext.getOrCreate(options.checkpoint, create);
  } catch (error) {
    const hint = await commonJsJobHint(path, error);
    // Node's own message then speaks of a require cycle the user never wrote: the hint replaces
    // it (the original stays the cause).
    const cause =
      hint === undefined
        ? error
        : new SluiceError(
            "SLUICE_JOB_LOAD_FAILED",
            `could not import the job module ${pathToFileURL(path).href}: ${hint}`,
            { cause: error },
          );
    throw new CliError(`the job ${jobFile} failed to build: ${message(cause)}`, 1, { cause });
  }
}

/** The job file's name, or its folder's for a generic name (`samples/iot-ingest/job.ts` → iot-ingest). */
function defaultAppName(path: string): string {
  const name = basename(path, extname(path));
  return ["job", "index", "main"].includes(name) ? basename(dirname(path)) : name;
}

function clusterFlag(
  flag: string | undefined,
  fromConfig: JobConfig["cluster"],
): StreamingContextOptions["cluster"] {
  try {
    return clusterOfRun(flag, fromConfig);
  } catch (error) {
    throw new CliError(message(error), 2, { cause: error });
  }
}

/** `--master`, checked as the config's `master` is: a typo is a usage error naming the flag. */
function masterFlag(flag: string | undefined): string | undefined {
  if (flag === undefined || jobConfigSchema.shape.master.safeParse(flag).success) return flag;
  throw new CliError(
    `--master takes "local", "local[N]" (N threads, at least 1) or "local[*]" (one per core), got "${flag}"`,
    2,
  );
}

function batchIntervalMs(value: string | number): number {
  try {
    return parseDuration(value as Duration, "batchInterval");
  } catch (error) {
    throw new CliError(message(error), 2, { cause: error });
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
