import type { SinkPlugin } from "../connector/plugin.js";
import { type AnySchema, knownFieldNames } from "../connector/schema-walk.js";

/** The option through which a sink writes files only the job's user can read. */
export const PRIVATE_FILES_OPTION = "privateFiles";

/**
 * The config a dead-letter sink is created with: dead letters are copies of records (payloads
 * included), so a sink that can keep its files private (one with a boolean `privateFiles`
 * option, such as the built-in file sink) is asked to, unless the config says otherwise.
 *
 * @example
 * deadLetterSinkConfig(fileSink, { directory: "dead-letters" });
 * // { directory: "dead-letters", privateFiles: true }
 */
export function deadLetterSinkConfig(plugin: SinkPlugin, config: unknown): unknown {
  if (typeof config !== "object" || config === null || Array.isArray(config)) return config;
  if (Object.hasOwn(config, PRIVATE_FILES_OPTION)) return config;
  if (!knownFieldNames([plugin.config as AnySchema]).includes(PRIVATE_FILES_OPTION)) return config;
  return { ...config, [PRIVATE_FILES_OPTION]: true };
}
