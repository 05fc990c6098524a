import type { z } from "zod";
import type { SinkContext, SourceContext } from "./connector-context.js";
import type { Sink, SinkCapabilities } from "./sink.js";
import type { Source, SourceCapabilities } from "./source.js";

/** The version of the plugin contract a plugin was written against. */
export const PLUGIN_CONTRACT_VERSION = 1;

/**
 * A source connector as a plugin declares it with `defineSource`.
 *
 * @example
 * const plugin: SourcePlugin = defineSource({ name: "ticks", version: "1.0.0", config, capabilities, create });
 */
export interface SourcePlugin<S extends z.ZodType = z.ZodType> {
  readonly sluicePlugin: typeof PLUGIN_CONTRACT_VERSION;
  readonly kind: "source";
  /** Unique among sources of a registry; what users pass to `ctx.source(name, config)`. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** The zod schema of the config; `create` receives its parsed output. */
  readonly config: S;
  readonly capabilities: SourceCapabilities;
  /** Builds the connector. Called once per `ctx.source(...)`; must do no I/O (that is `connect`). */
  create(config: z.output<S>, context: SourceContext): Source;
}

/**
 * A sink connector as a plugin declares it with `defineSink`.
 *
 * @example
 * const plugin: SinkPlugin = defineSink({ name: "audit", version: "1.0.0", config, capabilities, create });
 */
export interface SinkPlugin<S extends z.ZodType = z.ZodType> {
  readonly sluicePlugin: typeof PLUGIN_CONTRACT_VERSION;
  readonly kind: "sink";
  /** Unique among sinks of a registry; what users pass to `stream.sink(name, config)`. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly config: S;
  readonly capabilities: SinkCapabilities;
  /** Builds the connector. Called once per `stream.sink(...)`; must do no I/O. */
  create(config: z.output<S>, context: SinkContext): Sink;
}

/** Either kind of plugin. */
export type ConnectorPlugin = SourcePlugin | SinkPlugin;

const NAME_PATTERN = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/**
 * What is wrong with `value` as a plugin; empty when it is a well-formed plugin. Checked by
 * shape, not `instanceof`, so plugins built against another copy of Sluice are accepted.
 *
 * @example
 * const problems = pluginProblems(exported); if (problems.length) throw new Error(problems.join("; "));
 */
export function pluginProblems(value: unknown): string[] {
  if (value === null || typeof value !== "object") return ["it is not an object"];
  const plugin = value as Record<string, unknown>;
  const problems: string[] = [];
  if (plugin.sluicePlugin !== PLUGIN_CONTRACT_VERSION) {
    problems.push(
      `sluicePlugin is ${JSON.stringify(plugin.sluicePlugin)}, expected ${PLUGIN_CONTRACT_VERSION} (build it with defineSource/defineSink)`,
    );
  }
  if (plugin.kind !== "source" && plugin.kind !== "sink") {
    problems.push(`kind must be "source" or "sink", got ${JSON.stringify(plugin.kind)}`);
  }
  if (typeof plugin.name !== "string" || !NAME_PATTERN.test(plugin.name)) {
    problems.push(
      `name must be lowercase letters, digits, ".", "_" or "-" (optionally @scope/name), got ${JSON.stringify(plugin.name)}`,
    );
  }
  if (typeof plugin.version !== "string" || plugin.version.length === 0) {
    problems.push('version must be a non-empty string such as "1.0.0"');
  }
  const config = plugin.config as { _zod?: unknown } | null | undefined;
  if (config === null || typeof config !== "object" || config._zod === undefined) {
    problems.push("config must be a zod 4 schema, e.g. z.object({ ... })");
  }
  const capabilities = plugin.capabilities as Record<string, unknown> | null | undefined;
  if (capabilities === null || typeof capabilities !== "object") {
    problems.push("capabilities must be an object");
  } else if (plugin.kind === "source" && typeof capabilities.replayable !== "boolean") {
    problems.push("capabilities.replayable must be true or false");
  } else if (plugin.kind === "source") {
    problems.push(...acknowledgementProblems(capabilities));
  } else if (plugin.kind === "sink" && typeof capabilities.idempotent !== "boolean") {
    problems.push("capabilities.idempotent must be true or false");
  }
  if (typeof plugin.create !== "function") problems.push("create must be a function");
  return problems;
}

// Acknowledgements that must wait for output only mean something for a replayable source: one
// that cannot replay is acknowledged once its records are in the write-ahead log.
function acknowledgementProblems(capabilities: Record<string, unknown>): string[] {
  const acknowledgements = capabilities.acknowledgements;
  if (acknowledgements === undefined || acknowledgements === "informational") return [];
  if (acknowledgements !== "after-output") {
    return [
      `capabilities.acknowledgements must be "informational" or "after-output", got ${JSON.stringify(acknowledgements)}`,
    ];
  }
  if (capabilities.replayable !== true) {
    return [
      'capabilities.acknowledgements "after-output" needs replayable: true (a source that cannot replay is acknowledged once its records are in the write-ahead log)',
    ];
  }
  return [];
}

/**
 * True when `value` is a well-formed source or sink plugin.
 *
 * @example
 * const plugins = Object.values(module).filter(isConnectorPlugin);
 */
export function isConnectorPlugin(value: unknown): value is ConnectorPlugin {
  return pluginProblems(value).length === 0;
}
