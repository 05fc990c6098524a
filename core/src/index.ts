/**
 * Sluice: Spark Streaming for Node.js. The public API of the `sluice` package.
 */

export * from "./connectors/index.js";
export { hasErrorCode, SluiceError, type SluiceErrorCode } from "./errors/sluice-error.js";
export * from "./kernels/index.js";
export * from "./plugins/index.js";
