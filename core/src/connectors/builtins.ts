import type { ConnectorPlugin } from "../connector/plugin.js";
import { consoleSink } from "./console/console-sink-plugin.js";
import { fileSink } from "./file/file-sink-plugin.js";
import { fileSource } from "./file/file-source-plugin.js";
import { socketSource } from "./socket/socket-source-plugin.js";

/**
 * The connectors every registry registers unless told not to (`builtins: false`).
 *
 * @example
 * new ConnectorRegistry().use(...builtinConnectors());
 */
export function builtinConnectors(): ConnectorPlugin[] {
  return [fileSource, fileSink, socketSource, consoleSink];
}
