import { resourceLimits } from "node:worker_threads";
import type { DStream } from "sluice";
import { streamsJob } from "sluice/testing";

// Build functions of executors.test.ts that report on the thread they run in.
const url = import.meta.url;

/** Each record becomes the young generation limit (MiB) of the thread that mapped it; -1 if none. */
export const youngGeneration = streamsJob(url, "youngGeneration", (s: DStream<number>) =>
  s.map(() => resourceLimits.maxYoungGenerationSizeMb ?? -1),
);
