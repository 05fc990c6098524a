import { defineSink, defineSource } from "sluice/connector";
import { SkeletonSinkConfig, SkeletonSourceConfig } from "./config.js";
import { SkeletonSink } from "./skeleton-sink.js";
import { SkeletonSource } from "./skeleton-source.js";

/**
 * The source plugin: what a job names in `ctx.source("skeleton", config)` once it lists this
 * package in `defineJob({ plugins: ["sluice-skeleton"], build })`.
 */
export const SkeletonSourcePlugin = defineSource({
  name: "skeleton",
  version: "0.1.0",
  description: "Records read from the skeleton system by position.",
  config: SkeletonSourceConfig,
  capabilities: { replayable: true },
  create: (config, context) => new SkeletonSource(config, context),
});

/** The sink plugin: `stream.sink("skeleton", config)`. */
export const SkeletonSinkPlugin = defineSink({
  name: "skeleton",
  version: "0.1.0",
  description: "Batches written to the skeleton system, each under its idempotency key.",
  config: SkeletonSinkConfig,
  capabilities: { idempotent: true },
  create: (config, context) => new SkeletonSink(config, context),
});

/** Every plugin of the package: Sluice registers each one when a job lists the package. */
export const plugins = [SkeletonSourcePlugin, SkeletonSinkPlugin];
export default plugins;

export { SkeletonSinkConfig, SkeletonSourceConfig } from "./config.js";
export { InMemorySystem } from "./in-memory-system.js";
export { SkeletonSink } from "./skeleton-sink.js";
export { SkeletonSource } from "./skeleton-source.js";
