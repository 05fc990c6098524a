import { type ConnectorPlugin, isConnectorPlugin } from "../connector/plugin.js";
import type { StreamingContext } from "../context/streaming-context.js";
import { SluiceError } from "../errors/sluice-error.js";

const JOB = Symbol.for("sluice.job");
// The npm package name rule the plugin loader applies, checked here so a typo fails at once.
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/**
 * A connector plugin a job uses: the plugin object (`defineSource(...)` / `defineSink(...)`),
 * or the name of an installed npm package exporting plugins (`"@acme/sluice-redis"`).
 */
export type JobPlugin = ConnectorPlugin | string;

/** Builds a job's streams and output operations on `ctx`. */
export type JobBuild<Args> = (ctx: StreamingContext, args: Args) => void;

/** What `defineJob` takes when the job needs connector plugins. */
export interface JobSpec<Args = undefined> {
  /**
   * Registered on the context before `build` runs (on the driver and on every executor), so
   * `ctx.source(name, …)` and `stream.sink(name, …)` find their connectors. Package names are
   * looked up in `node_modules` folders from the job module's folder upward.
   */
  readonly plugins?: readonly JobPlugin[];
  /** Builds the job's streams and output operations on `ctx`. */
  readonly build: JobBuild<Args>;
}

/**
 * A streaming job as a module exports it: a function that builds the DStream graph on a context.
 * Executors import the same module and call the same function, so the graph (and every lambda
 * in it) exists on each of them without being serialised.
 */
export interface JobDefinition<Args = undefined> {
  readonly [JOB]: "context";
  /** Builds the job's streams and output operations on `ctx`. */
  readonly build: JobBuild<Args>;
  /**
   * The connector plugins registered before `build` runs (absent in a definition made by a
   * copy of Sluice that predates them).
   */
  readonly plugins?: readonly JobPlugin[];
}

/**
 * Declares a job for `sluice run` and `createJobContext` (and their executors) to load; export
 * the result. `build` must create the same streams in the same order every time it runs, on the
 * driver and on every executor (stream ids come from construction order). A job whose
 * connectors come from plugins lists them in `plugins`; they are registered before `build`.
 *
 * @example
 * // word-count.ts
 * export default defineJob((ctx) => {
 *   ctx.socketTextStream("localhost", 9999)
 *     .flatMap((line) => line.split(" "))
 *     .map((word) => [word, 1])
 *     .reduceByKey("sum")
 *     .print();
 * });
 *
 * // orders.ts: a connector from an npm package and one from this project
 * export default defineJob({
 *   plugins: ["@acme/sluice-redis", webhookSource],
 *   build(ctx) {
 *     ctx.source("webhook", { port: 8080 }).sink("redis", { url: "redis://127.0.0.1" });
 *   },
 * });
 */
export function defineJob<Args = undefined>(
  job: JobBuild<Args> | JobSpec<Args>,
): JobDefinition<Args> {
  if (typeof job === "function") return { [JOB]: "context", build: job, plugins: [] };
  if (typeof job !== "object" || job === null || typeof job.build !== "function") {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      "defineJob takes a build function, or { plugins, build } with build a function: defineJob({ plugins: [...], build(ctx) { ... } })",
    );
  }
  return { [JOB]: "context", build: job.build, plugins: checkedPlugins(job.plugins ?? []) };
}

/**
 * True when `value` is what `defineJob` returns.
 *
 * @example
 * isJobDefinition(module.default); // true for `export default defineJob(...)`
 */
export function isJobDefinition(value: unknown): value is JobDefinition<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [JOB]?: unknown })[JOB] === "context" &&
    typeof (value as { build?: unknown }).build === "function"
  );
}

/** The `plugins` of a job, each checked: a plugin object or an npm package name. */
function checkedPlugins(plugins: unknown): readonly JobPlugin[] {
  if (!Array.isArray(plugins)) {
    throw new SluiceError(
      "SLUICE_PLUGIN_INVALID",
      `defineJob: plugins must be an array of plugins (defineSource/defineSink) or npm package names, got ${describe(plugins)}`,
    );
  }
  const problems: string[] = [];
  plugins.forEach((plugin: unknown, index) => {
    if (isConnectorPlugin(plugin)) return;
    if (typeof plugin === "string" && PACKAGE_NAME.test(plugin)) return;
    problems.push(
      typeof plugin === "string"
        ? `plugins[${index}]: "${plugin}" is not an npm package name (e.g. "@acme/sluice-redis")`
        : `plugins[${index}]: ${describe(plugin)} is neither a plugin made with defineSource/defineSink nor a package name`,
    );
  });
  if (problems.length > 0) {
    throw new SluiceError("SLUICE_PLUGIN_INVALID", `defineJob: ${problems.join("; ")}`);
  }
  return Object.freeze([...(plugins as JobPlugin[])]);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
