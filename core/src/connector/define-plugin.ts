import type { z } from "zod";
import { SluiceError } from "../errors/sluice-error.js";
import {
  PLUGIN_CONTRACT_VERSION,
  pluginProblems,
  type SinkPlugin,
  type SourcePlugin,
} from "./plugin.js";

/** What `defineSource` takes: the plugin without its contract markers. */
export type SourceDefinition<S extends z.ZodType> = Omit<SourcePlugin<S>, "sluicePlugin" | "kind">;
/** What `defineSink` takes: the plugin without its contract markers. */
export type SinkDefinition<S extends z.ZodType> = Omit<SinkPlugin<S>, "sluicePlugin" | "kind">;

/**
 * Declares a source connector plugin; the declaration is checked at once.
 *
 * @example
 * export default defineSource({
 *   name: "ticks",
 *   version: "1.0.0",
 *   config: z.object({ everyMs: z.number().int().positive() }),
 *   capabilities: { replayable: false },
 *   create: (config, context) => new TickSource(config, context.logger),
 * });
 */
export function defineSource<S extends z.ZodType>(
  definition: SourceDefinition<S>,
): SourcePlugin<S> {
  const plugin: SourcePlugin<S> = {
    ...definition,
    sluicePlugin: PLUGIN_CONTRACT_VERSION,
    kind: "source",
  };
  return checked(plugin);
}

/**
 * Declares a sink connector plugin; the declaration is checked at once.
 *
 * @example
 * export default defineSink({
 *   name: "audit",
 *   version: "1.0.0",
 *   config: z.object({ table: z.string() }),
 *   capabilities: { idempotent: true },
 *   create: (config) => new AuditSink(config.table),
 * });
 */
export function defineSink<S extends z.ZodType>(definition: SinkDefinition<S>): SinkPlugin<S> {
  const plugin: SinkPlugin<S> = {
    ...definition,
    sluicePlugin: PLUGIN_CONTRACT_VERSION,
    kind: "sink",
  };
  return checked(plugin);
}

function checked<P extends SourcePlugin | SinkPlugin>(plugin: P): P {
  const problems = pluginProblems(plugin);
  if (problems.length > 0) {
    const name = typeof plugin.name === "string" ? `"${plugin.name}"` : "(unnamed)";
    throw new SluiceError(
      "SLUICE_PLUGIN_INVALID",
      `The ${plugin.kind} plugin ${name} is not well-formed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return Object.freeze(plugin);
}
