import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import type { StreamingContextOptions } from "../context/context-options.js";
import { StreamingContext } from "../context/streaming-context.js";
import { SluiceError } from "../errors/sluice-error.js";
import { setUpKeyedPart } from "./cluster-keyed-part.js";
import { isJobDefinition, type JobDefinition } from "./define-job.js";
import { findKeyedCut } from "./keyed-cut.js";
import { registerJobPlugins } from "./register-job-plugins.js";
import { runJobBuild } from "./run-job-build.js";

/** Where a job is: a module and the export holding its `defineJob` definition. */
export interface JobReference<Args = unknown> {
  /** The module's URL or absolute path (`new URL("./job.ts", import.meta.url)`). */
  readonly module: string | URL;
  /** The export (default `"default"`). */
  readonly exportName?: string;
  /** Passed to the job's function on the driver and on every executor (structured-cloneable). */
  readonly args?: Args;
  /**
   * npm packages exporting connector plugins, registered before the job builds (on the driver
   * and on every executor) after the job's own `defineJob({ plugins })`, so the job can name
   * their connectors.
   */
  readonly plugins?: readonly string[];
}

/** What `createJobContext` may do besides building the job. */
export interface CreateJobContextHooks {
  /**
   * Called with the new context once the job's plugins are registered and before its graph is
   * built: register services the connectors `resolve` (`connectorsOf(ctx).register(...)`).
   */
  readonly beforeBuild?: (ctx: StreamingContext) => void;
}

/**
 * Loads a job module, registers its connector plugins and builds its graph on a new context;
 * with `master: "local[N]"` (N > 1) the context's executors import the same module when it
 * starts. Call `start()` on the result. A plain script runs a `defineJob` job this way.
 *
 * @example
 * const ctx = await createJobContext(
 *   { module: new URL("./word-count.ts", import.meta.url) },
 *   { batchInterval: "1s", master: "local[2]" },
 * );
 * await ctx.start();
 */
export async function createJobContext<Args>(
  job: JobReference<Args>,
  options: StreamingContextOptions,
  hooks: CreateJobContextHooks = {},
): Promise<StreamingContext> {
  const module = moduleUrl(job.module);
  const exportName = job.exportName ?? "default";
  let exported: unknown;
  try {
    exported = ((await import(module)) as Record<string, unknown>)[exportName];
  } catch (error) {
    throw new SluiceError(
      "SLUICE_JOB_LOAD_FAILED",
      `could not import the job module ${module}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!isJobDefinition(exported)) {
    throw new SluiceError(
      "SLUICE_JOB_LOAD_FAILED",
      `export "${exportName}" of ${module} is not a job: export the result of defineJob(...)`,
    );
  }
  // Sources are created as the job builds, and a Kafka source of a job with state across
  // batches must know it (it carries the keyed exchange): in cluster mode the job is built once
  // on a context outside the cluster first, to find where it is cut.
  const keyed =
    options.cluster !== undefined && (await hasKeyedPart(job, options, hooks, exported));
  const ctx = new StreamingContext(options);
  if (keyed) ctx.cluster?.planKeyedPart();
  ctx.scope.setJob({
    module,
    exportName,
    kind: "context",
    inputs: 0,
    args: job.args,
    plugins: job.plugins ?? [],
  });
  await registerJobPlugins(ctx, exported, module, job.plugins ?? []);
  hooks.beforeBuild?.(ctx);
  runJobBuild(exported, ctx, job.args);
  setUpKeyedPart(ctx, options, (taskOptions) => createJobContext(job, taskOptions, hooks));
  return ctx;
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    `createJobContext: module must be a file URL or an absolute path, got "${module}"`,
  );
}

async function hasKeyedPart<Args>(
  job: JobReference<Args>,
  options: StreamingContextOptions,
  hooks: CreateJobContextHooks,
  exported: JobDefinition<unknown>,
): Promise<boolean> {
  const { cluster: _cluster, master: _master, ui: _ui, ...alone } = options;
  const probe = new StreamingContext(alone);
  try {
    await registerJobPlugins(probe, exported, moduleUrl(job.module), job.plugins ?? []);
    hooks.beforeBuild?.(probe);
    runJobBuild(exported, probe, job.args);
    return findKeyedCut(probe.scope.graph.outputs) !== undefined;
  } finally {
    await probe.stop();
  }
}
