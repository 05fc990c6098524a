import { defineSource } from "../../connector/define-plugin.js";
import { CONNECTOR_CONTAINER, SOURCE_DEAD_LETTERS } from "../../connector/tokens.js";
import { FileSource } from "./file-source.js";
import { fileSourceConfig } from "./file-source-config.js";

/**
 * The built-in `file` source: a folder of files moved in when complete, read as lines, JSON
 * lines, CSV or fixed-length binary records; replayable (offset = byte position in the file).
 *
 * @example
 * const lines = ctx.source("file", { directory: "incoming", format: "jsonl" });
 */
export const fileSource = defineSource({
  name: "file",
  version: "0.1.0",
  description:
    "New files in a folder (atomic-move rule), as lines, JSON lines, CSV rows or fixed-length binary records.",
  config: fileSourceConfig,
  capabilities: { replayable: true },
  create: (config, context) =>
    new FileSource(config, context.logger, context.committedOffsets, {
      id: context.id,
      // Registered by ctx.deadLetters(...), which may run after ctx.source(...): look it up late.
      deadLetters: () => {
        const container = context.resolve(CONNECTOR_CONTAINER);
        return container.isRegistered(SOURCE_DEAD_LETTERS, true)
          ? context.resolve(SOURCE_DEAD_LETTERS)
          : undefined;
      },
    }),
});
