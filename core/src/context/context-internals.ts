import type { DStream } from "../dstream/dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { DriverExecution } from "../execution/driver-execution.js";
import type { ExecutorJobSpec } from "../job/executor-job-spec.js";
import type { Clock } from "../scheduler/clock.js";
import type { InputInfoTracker } from "../scheduler/input-info-tracker.js";
import type { ListenerBus } from "../scheduler/listener-bus.js";
import type { ContextState } from "./context-state.js";
import type { DStreamGraph } from "./dstream-graph.js";
import type { StreamingContext } from "./streaming-context.js";

/**
 * What the streams, inputs and the test driver need from their context, kept off the public
 * `StreamingContext` class.
 */
export interface ContextInternals {
  readonly batchInterval: number;
  readonly defaultParallelism: number;
  readonly clock: Clock;
  readonly graph: DStreamGraph;
  readonly listenerBus: ListenerBus;
  readonly inputInfoTracker: InputInfoTracker;
  state(): ContextState;
  /** Throws unless operations may still be added (the context is not started or stopped). */
  assertCanAddOperations(): void;
  /** Gives a new DStream of this context its id (the order of graph construction). */
  registerStream(stream: DStream<unknown>): number;
  /** Every stream of this context by id (executors find operators by id). */
  readonly streams: ReadonlyMap<number, DStream<unknown>>;
  /** Records the module executors import to rebuild this context's graph (before `start`). */
  setJob(job: ExecutorJobSpec): void;
  /** The module executors import, if the job came from one. */
  job(): ExecutorJobSpec | undefined;
  /** The executors while the context runs with `local[N]`, N > 1 (else undefined). */
  execution(): DriverExecution | undefined;
  /** Records an error for `awaitTermination` to throw (Spark's `reportError`). */
  reportError(error: unknown): void;
  /** The first error reported, if any. */
  firstError(): unknown;
  /** Resolves once every batch up to `time` has been generated and all its jobs completed. */
  awaitProcessed(time: number): Promise<void>;
}

const internalsByContext = new WeakMap<StreamingContext, ContextInternals>();

/**
 * Attaches a context's internals (called once by its constructor).
 *
 * @example
 * attachInternals(this, { batchInterval: 1000, ... }); // in the StreamingContext constructor
 */
export function attachInternals(context: StreamingContext, internals: ContextInternals): void {
  internalsByContext.set(context, internals);
}

/**
 * The internals of a context.
 *
 * @example
 * internalsOf(ctx).graph.outputs.length;
 */
export function internalsOf(context: StreamingContext): ContextInternals {
  const internals = internalsByContext.get(context);
  if (internals === undefined) {
    throw new SluiceError(
      "SLUICE_INTERNAL",
      "this object is not a StreamingContext of this copy of Sluice",
    );
  }
  return internals;
}
