import { defineSource } from "../../connector/define-plugin.js";
import { SocketSource } from "./socket-source.js";
import { socketSourceConfig } from "./socket-source-config.js";

/**
 * The built-in `socket` source: lines from a TCP server, reconnecting with backoff; not
 * replayable (its records go through the write-ahead log).
 *
 * @example
 * const lines = ctx.source("socket", { host: "127.0.0.1", port: 9999 });
 */
export const socketSource = defineSource({
  name: "socket",
  version: "0.1.0",
  description: "Newline-separated lines read from a TCP server (Spark's socketTextStream).",
  config: socketSourceConfig,
  capabilities: { replayable: false },
  create: (config, context) => new SocketSource(config, context.logger),
});
