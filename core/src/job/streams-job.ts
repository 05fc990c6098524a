import type { DStream } from "../dstream/dstream.js";

const STREAMS_JOB = Symbol.for("sluice.streamsJob");

/**
 * A graph built from input streams (the test driver's kind of job), named by the module that
 * exports it and the export's name so executors can import the same function.
 */
export interface StreamsJob<Streams extends readonly unknown[], R> {
  readonly [STREAMS_JOB]: true;
  /** The URL of the module exporting this job. */
  readonly module: string;
  /** The name it is exported under. */
  readonly exportName: string;
  /** Builds the observed stream from the input streams. */
  readonly build: (...streams: Streams) => DStream<R>;
}

/**
 * Declares a build function for `runBatches` that also runs under `master: "local[N]"`: export
 * the result from a module under its own name, and executors import it from there.
 *
 * @example
 * // jobs/basic.ts
 * export const doubled = streamsJob(import.meta.url, "doubled", (s: DStream<number>) =>
 *   s.map((x) => x * 2),
 * );
 * // basic.test.ts
 * await runBatches({ inputs: [[[1, 2]]], master: "local[2]" }, doubled); // [[2, 4]]
 */
export function streamsJob<Streams extends readonly unknown[], R>(
  module: string,
  exportName: string,
  build: (...streams: Streams) => DStream<R>,
): StreamsJob<Streams, R> {
  return { [STREAMS_JOB]: true, module, exportName, build };
}

/**
 * True when `value` is what `streamsJob` returns.
 *
 * @example
 * isStreamsJob(jobs.doubled); // true
 */
export function isStreamsJob(value: unknown): value is StreamsJob<readonly unknown[], unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [STREAMS_JOB]?: unknown })[STREAMS_JOB] === true &&
    typeof (value as { build?: unknown }).build === "function"
  );
}
