import type { StreamingContext } from "../context/streaming-context.js";

const JOB = Symbol.for("sluice.job");

/**
 * A streaming job as a module exports it: a function that builds the DStream graph on a context.
 * Executors import the same module and call the same function, so the graph (and every lambda
 * in it) exists on each of them without being serialised.
 */
export interface JobDefinition<Args = undefined> {
  readonly [JOB]: "context";
  /** Builds the job's streams and output operations on `ctx`. */
  readonly build: (ctx: StreamingContext, args: Args) => void;
}

/**
 * Declares a job for `createJobContext` (and its executors) to load; export the result.
 * `build` must create the same streams in the same order every time it runs, on the driver and
 * on every executor (stream ids come from construction order).
 *
 * @example
 * // word-count.ts
 * export default defineJob((ctx) => {
 *   ctx.socketTextStream("localhost", 9999)
 *     .flatMap((line) => line.split(" "))
 *     .map((word) => [word, 1])
 *     .reduceByKey("sum")
 *     .print();
 * });
 */
export function defineJob<Args = undefined>(
  build: (ctx: StreamingContext, args: Args) => void,
): JobDefinition<Args> {
  return { [JOB]: "context", build };
}

/**
 * True when `value` is what `defineJob` returns.
 *
 * @example
 * isJobDefinition(module.default); // true for `export default defineJob(...)`
 */
export function isJobDefinition(value: unknown): value is JobDefinition<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [JOB]?: unknown })[JOB] === "context" &&
    typeof (value as { build?: unknown }).build === "function"
  );
}
