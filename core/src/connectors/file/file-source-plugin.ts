import { defineSource } from "../../plugins/define-plugin.js";
import { FileSource } from "./file-source.js";
import { fileSourceConfig } from "./file-source-config.js";

/**
 * The built-in `file` source: a folder of files moved in when complete, read as lines, JSON
 * lines or CSV; replayable (offset = byte position in the file).
 *
 * @example
 * const lines = ctx.source("file", { directory: "incoming", format: "jsonl" });
 */
export const fileSource = defineSource({
  name: "file",
  version: "0.1.0",
  description: "New files in a folder (atomic-move rule), as lines, JSON lines or CSV rows.",
  config: fileSourceConfig,
  capabilities: { replayable: true },
  create: (config, context) => new FileSource(config, context.logger, context.committedOffsets),
});
