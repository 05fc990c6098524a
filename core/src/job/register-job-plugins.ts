import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectorPlugin } from "../connector/plugin.js";
import type { StreamingContext } from "../context/streaming-context.js";
import { connectorsOf } from "../plugins/connectors-of.js";
import type { JobDefinition } from "./define-job.js";

/**
 * Registers a job's connector plugins on its context before its graph is built: the plugin
 * objects of `defineJob({ plugins })`, its package names (imported from the job module's folder
 * upward, as the module's own imports resolve), then the packages a run's config lists
 * (`plugins:` of a `sluice run --config` file, from the working directory). The driver and every
 * executor call it, so each of them can create the job's connectors by name.
 *
 * @example
 * await registerJobPlugins(ctx, definition, "file:///app/jobs/orders.ts", config.plugins ?? []);
 */
export async function registerJobPlugins(
  ctx: StreamingContext,
  definition: JobDefinition<unknown>,
  moduleUrl: string,
  configPackages: readonly string[],
): Promise<void> {
  const plugins = definition.plugins ?? [];
  const objects = plugins.filter((plugin): plugin is ConnectorPlugin => typeof plugin !== "string");
  const packages = plugins.filter((plugin): plugin is string => typeof plugin === "string");
  if (objects.length > 0) ctx.use(...objects);
  if (packages.length > 0) {
    const resolveFrom = moduleUrl.startsWith("file:")
      ? dirname(fileURLToPath(moduleUrl))
      : process.cwd();
    await connectorsOf(ctx).loadPlugins(packages, { resolveFrom });
  }
  if (configPackages.length > 0) await ctx.loadPlugins(configPackages);
}
