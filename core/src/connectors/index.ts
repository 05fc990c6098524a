export { builtinConnectors } from "./builtins.js";
export { type ConsoleSinkConfig, consoleSinkConfig } from "./console/console-sink-config.js";
export { consoleSink } from "./console/console-sink-plugin.js";
export {
  type CreateConnectorRegistryOptions,
  createConnectorRegistry,
} from "./default-registry.js";
export { batchFileName, isDataFileName } from "./file/file-names.js";
export { type FileSinkConfig, fileSinkConfig } from "./file/file-sink-config.js";
export { fileSink } from "./file/file-sink-plugin.js";
export { type FileSourceConfig, fileSourceConfig } from "./file/file-source-config.js";
export { fileSource } from "./file/file-source-plugin.js";
export { type SocketSourceConfig, socketSourceConfig } from "./socket/socket-source-config.js";
export { socketSource } from "./socket/socket-source-plugin.js";
