import type { ExecutorJobSpec } from "../execution/executor-job-spec.js";
import type { RateControlOptions } from "../flow/rate-controller.js";
import type { Kernels } from "../kernels/kernels.js";
import type { ContextConnectors } from "../plugins/context-connectors.js";
import type { Clock } from "../scheduler/clock.js";
import type { ContextState } from "../scheduler/context-state.js";
import type { InputInfoTracker } from "../scheduler/input-info-tracker.js";
import type { ListenerBus } from "../scheduler/listener-bus.js";
import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import type { DStreamGraph } from "./dstream-graph.js";
import type { OperatorClasses } from "./operator-classes.js";
import type { RecordFailures } from "./record-failures.js";
import type { AddSinkOutput } from "./sink-options.js";

/**
 * The object `stream.context` returns. Declared empty here and merged with `StreamingContext`
 * by the context module, so streams can hand out their context, fully typed, without this
 * layer importing the layer above it.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in streaming-context.ts
export interface StreamOwner {}

/** Computes a stream's batch on the executors (`local[N]`, N > 1). */
export interface RemoteExecution {
  /**
   * The batch of `stream` at `time` computed by tasks, or `undefined` when the stream is computed
   * on the driver.
   */
  compute(stream: DStream<unknown>, time: number): Promise<Batch<unknown> | undefined> | undefined;
  /** The executors' thread ids now. */
  threadIds(): number[];
  /** Executor threads (the N of `local[N]`). */
  readonly executors: number;
}

/**
 * What every stream of one context shares: built once by the `StreamingContext` and handed down
 * to each stream it creates (a stream holds its parent's scope), to inputs, the connector wiring
 * and the test driver. Nothing here is reached through a global or a lookup by context.
 *
 * @example
 * class TickInput extends InputDStream<number> {
 *   protected async computeInput(time: number) {
 *     return { time, partitions: [[time / this.scope.batchInterval]] };
 *   }
 * }
 */
export interface StreamScope {
  /** The context that built this scope (what `stream.context` returns). */
  readonly context: StreamOwner;
  /** The job's name: in idempotency keys, checkpoints and logs. */
  readonly appName: string;
  /**
   * Which copy of the job this context's outputs write as, when several copies write the same
   * batch times (cluster mode: `process-<processId>`, or `keyed-<n>` in a keyed task); undefined
   * when one process runs the job. Sinks are told it (`WriteBatchContext.writer`).
   */
  outputWriter(): string | undefined;
  /** The batch interval in milliseconds. */
  readonly batchInterval: number;
  /** Flow control of connector sources unless a source says otherwise. */
  readonly backpressure: RateControlOptions;
  /** Partitions of shuffles and inputs unless told otherwise. */
  readonly defaultParallelism: number;
  /** The clock batches tick on. */
  readonly clock: Clock;
  /** Streaming listeners: batch, output, input and executor events. */
  readonly listenerBus: ListenerBus;
  /** What each input brought into each batch. */
  readonly inputInfoTracker: InputInfoTracker;
  /** The kernels the streaming operators call (native, or the TypeScript twin). */
  readonly kernels: Kernels;
  /** The operator classes `DStream`'s methods instantiate. */
  readonly operators: OperatorClasses;
  /** The output operation behind `stream.sink(...)`, from the connector runtime. */
  readonly addSinkOutput: AddSinkOutput;
  /** The inputs and output operations. */
  readonly graph: DStreamGraph;
  /** Record-level failures: the dead-letter output and the batch whose outputs run. */
  readonly recordFailures: RecordFailures;
  /** The context's connector registry and the signal that ends connector retries. */
  readonly connectors: ContextConnectors;
  /** Every stream of this context by id (executors find operators by id). */
  readonly streams: ReadonlyMap<number, DStream<unknown>>;
  /**
   * How many streams of the graph read `stream` (as a dependency: children, outputs, windows,
   * unions): 1 means a fused loop or a fused count may run through it.
   */
  readersOf(stream: DStream<unknown>): number;
  /** Where the context is in its life. */
  state(): ContextState;
  /** Throws unless operations may still be added (the context is not started or stopped). */
  assertCanAddOperations(): void;
  /** Gives a new stream its id (the order of graph construction). */
  registerStream(stream: DStream<unknown>): number;
  /** Records the module executors import to rebuild this context's graph (before `start`). */
  setJob(job: ExecutorJobSpec): void;
  /** The module executors import, if the job came from one. */
  job(): ExecutorJobSpec | undefined;
  /** The executors while the context runs with `local[N]`, N > 1 (else undefined). */
  execution(): RemoteExecution | undefined;
  /** Records an error for `awaitTermination` to throw (Spark's `reportError`). */
  reportError(error: unknown): void;
  /** The first error reported, if any. */
  firstError(): unknown;
  /** Resolves once every batch up to `time` has been generated and all its jobs completed. */
  awaitProcessed(time: number): Promise<void>;
}

/** Anything that carries a scope: a `StreamingContext`, or a stream. */
export interface ScopeHolder {
  readonly scope: StreamScope;
}
