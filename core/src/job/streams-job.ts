import type { DStream } from "../dstream/dstream.js";

const STREAMS_JOB = Symbol.for("sluice.streamsJob");
const STREAMS_JOB_FACTORY = Symbol.for("sluice.streamsJobFactory");

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
  /** What a `streamsJobFactory` job was made with (sent to executors to make it again). */
  readonly args: unknown;
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
  return { [STREAMS_JOB]: true, module, exportName, build, args: undefined };
}

/** A family of streams jobs told apart by structured-cloneable arguments. */
export interface StreamsJobFactory<Args, Streams extends readonly unknown[], R> {
  (args: Args): StreamsJob<Streams, R>;
  readonly [STREAMS_JOB_FACTORY]: (args: Args) => (...streams: Streams) => DStream<R>;
}

/**
 * Like `streamsJob`, for a build function that depends on arguments (a window length, a key):
 * executors receive the arguments and make the same function.
 *
 * @example
 * export const windowed = streamsJobFactory(import.meta.url, "windowed", (ms: number) =>
 *   (s: DStream<number>) => s.window(ms),
 * );
 * await runBatches({ inputs, master: "local[2]" }, windowed(2000));
 */
export function streamsJobFactory<Args, Streams extends readonly unknown[], R>(
  module: string,
  exportName: string,
  make: (args: Args) => (...streams: Streams) => DStream<R>,
): StreamsJobFactory<Args, Streams, R> {
  const factory = (args: Args): StreamsJob<Streams, R> => ({
    [STREAMS_JOB]: true,
    module,
    exportName,
    build: make(args),
    args,
  });
  return Object.assign(factory, { [STREAMS_JOB_FACTORY]: make });
}

/**
 * The build function an export stands for: a `streamsJob`'s own, or what a `streamsJobFactory`
 * makes of `args`; undefined for anything else.
 *
 * @example
 * const build = streamsBuildOf(module.windowed, 2000);
 */
export function streamsBuildOf(
  exported: unknown,
  args: unknown,
): ((...streams: readonly unknown[]) => DStream<unknown>) | undefined {
  if (isStreamsJob(exported)) return exported.build;
  const make =
    typeof exported === "function"
      ? (exported as { [STREAMS_JOB_FACTORY]?: unknown })[STREAMS_JOB_FACTORY]
      : undefined;
  if (typeof make !== "function") return undefined;
  return (make as (args: unknown) => (...streams: readonly unknown[]) => DStream<unknown>)(args);
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
