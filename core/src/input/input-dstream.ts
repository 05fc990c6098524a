import { type Batch, batchSize } from "../dstream/batch.js";
import { DStream } from "../dstream/dstream.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";

/**
 * A stream fed from outside (Spark's `InputDStream`): it has no parents, produces a batch every
 * batch interval, and is started and stopped with its context. Every input's batch is taken at
 * the tick of its batch time, even when no output needs it then, so receivers and directories
 * are cut into batches on time. Pull-based connector sources fit as another subclass
 * (`SourceInputDStream`): their records become blocks of a `BlockBuffer`, acknowledged from
 * `batchCompleted` once the batch's outputs ran.
 *
 * @example
 * class TickInput extends InputDStream<number> {
 *   protected async computeInput(time: number) {
 *     return { time, partitions: [[time]] };
 *   }
 * }
 * new TickInput(ctx).print();
 */
export abstract class InputDStream<T> extends DStream<T> {
  /** The input's id in its context (order of creation, from 0), as listeners report it. */
  readonly inputId: number;

  /** `context`: the `StreamingContext` (or anything holding its scope) the input belongs to. */
  constructor(context: ScopeHolder) {
    super(context.scope);
    this.inputId = context.scope.graph.addInput(this);
  }

  get slideDuration(): number {
    return this.scope.batchInterval;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [];
  }

  /** Starts receiving (called by `StreamingContext.start`). */
  async start(): Promise<void> {}

  /** Stops receiving (called by `StreamingContext.stop`); received data stays for draining. */
  async stop(): Promise<void> {}

  /** True while data has been received that no batch holds yet (a graceful stop waits for it). */
  hasPendingData(): boolean {
    return false;
  }

  /**
   * True once the input can bring no more data (a bounded source reached its end). Unbounded
   * inputs never end.
   *
   * @example
   * if (input.hasEnded() && !input.hasPendingData()) await ctx.stop({ graceful: true });
   */
  hasEnded(): boolean {
    return false;
  }

  /**
   * Told when every output of the batch at `time` has run (with the first failure, if any), so
   * sources can acknowledge what the batch held.
   */
  batchCompleted(_time: number, _failure: unknown): void {}

  /** Takes the input's batch for `time` (at most once per time). */
  protected abstract computeInput(time: number): Promise<Batch<T> | undefined>;

  protected async compute(time: number): Promise<Batch<T> | undefined> {
    const batch = await this.computeInput(time);
    this.scope.inputInfoTracker.report(time, {
      inputStreamId: this.inputId,
      numRecords: batch === undefined ? 0 : batchSize(batch),
    });
    return batch;
  }
}
