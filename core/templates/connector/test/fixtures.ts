// The conformance kit's fixtures: each case gets a fresh system of its own and the hooks the
// kit uses to put records in, read what was written, and drop connections. When the package
// talks to a real server, point these at it (a fresh stream or table per case).
import { randomUUID } from "node:crypto";
import type {
  InvalidConfigExample,
  SinkConformanceFixture,
  SourceConformanceFixture,
} from "sluice/testing/conformance";
import { InMemorySystem } from "../src/in-memory-system.js";
import { SkeletonSinkPlugin, SkeletonSourcePlugin } from "../src/index.js";

const GROUP = "conformance";

/** A source fixture over a new, empty system. */
export function sourceFixture(): SourceConformanceFixture {
  const url = `memory://${randomUUID()}`;
  const system = InMemorySystem.at(url);
  return {
    plugin: SkeletonSourcePlugin,
    config: { url, group: GROUP, maxRecordsPerRead: 100 },
    produce: async (values) => system.append(values),
    dropConnections: async () => system.dropConnections(),
    // What the system would deliver again to the group: not yet committed.
    pending: async () => system.pending(GROUP),
    endInput: async () => system.end(),
    cleanup: async () => InMemorySystem.remove(url),
  };
}

/** A sink fixture over a new, empty system. */
export function sinkFixture(): SinkConformanceFixture {
  const url = `memory://${randomUUID()}`;
  const system = InMemorySystem.at(url);
  return {
    plugin: SkeletonSinkPlugin,
    config: { url },
    readBack: async () => system.writtenValues(),
    dropConnections: async () => system.dropConnections(),
    cleanup: async () => InMemorySystem.remove(url),
  };
}

/** A config with two invalid fields, and the paths the error must name. */
export const invalidSourceConfig: InvalidConfigExample = {
  config: { url: "http://not-memory", maxRecordsPerRead: 0 },
  paths: ["url", "maxRecordsPerRead"],
};

/** The sink's: a wrong URL and a field it does not know. */
export const invalidSinkConfig: InvalidConfigExample = {
  config: { url: "http://not-memory", batchSize: 10 },
  paths: ["url", "batchSize"],
};
