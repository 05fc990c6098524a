import { defineSink } from "../../connector/define-plugin.js";
import { FileSink } from "./file-sink.js";
import { fileSinkConfig } from "./file-sink-config.js";

/**
 * The built-in `file` sink: one file per batch and partition, written atomically and named by
 * batch time, so a replay overwrites instead of duplicating.
 *
 * @example
 * counts.map(toLine).sink("file", { directory: "out", prefix: "counts" });
 */
export const fileSink = defineSink({
  name: "file",
  version: "0.1.0",
  description: "One file per batch and partition, written atomically (temp file, fsync, rename).",
  config: fileSinkConfig,
  capabilities: { idempotent: true },
  create: (config) => new FileSink(config),
});
