/**
 * `sluice/advanced`: the machinery under the job API, for benchmarks, tools and tests that pick
 * kernels, drive flow control, run executors or connector sessions themselves. Jobs need only
 * `sluice`; connectors are written against `sluice/connector`.
 */

export {
  type CreateConnectorRegistryOptions,
  createConnectorRegistry,
} from "./connectors/default-registry.js";
export {
  EXECUTOR_YOUNG_GENERATION_MB,
  ExecutorPool,
  type ExecutorPoolOptions,
} from "./execution/executor-pool.js";
export * from "./flow/index.js";
export * from "./kernels/index.js";
export * from "./plugins/index.js";
export type { DurableFile, DurableFileSystem } from "./recovery/durable-fs.js";
