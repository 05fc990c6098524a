import { defineSink } from "../../connector/define-plugin.js";
import { CONSOLE_STREAMS } from "../../connector/tokens.js";
import { ConsoleSink } from "./console-sink.js";
import { consoleSinkConfig } from "./console-sink-config.js";

/**
 * The built-in `console` sink: prints batches like Spark's `print()`; for development.
 *
 * @example
 * counts.sink("console", { maxRecords: 20 });
 */
export const consoleSink = defineSink({
  name: "console",
  version: "0.1.0",
  description: "Prints each batch with its time, like Spark's DStream.print().",
  config: consoleSinkConfig,
  capabilities: { idempotent: false },
  create: (config, context) =>
    new ConsoleSink(config, context.resolve(CONSOLE_STREAMS)[config.stream]),
});
