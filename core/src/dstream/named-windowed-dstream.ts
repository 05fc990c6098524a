import { SluiceError } from "../errors/sluice-error.js";
import type { Duration } from "../util/duration.js";
import type { Batch } from "./batch.js";
import { batchOf } from "./columnar-batch.js";
import { DStream } from "./dstream.js";
import type { NamedReduction } from "./named-reductions.js";
import { NamedWindowState, type SavedNamedWindow } from "./named-window-state.js";
import { checkSavedNamedWindow } from "./saved-state-checks.js";
import { latestValidTime, type StatefulOperator, startWithoutState } from "./stateful-operator.js";
import { inSomeWindow, windowTiming } from "./window-timing.js";

/** What checkpoints hold for `reduceByKeyAndWindow(op, …)`. */
interface SavedNamedWindowedStream extends SavedNamedWindow {
  /** The parent's batches up to this time are in the window state. */
  readonly foldedThrough: number;
}

/**
 * `reduceByKeyAndWindow("sum" | "count" | "min" | "max", window, slide?)`: keeps the window in
 * the kernels' `WindowAggregator` (panes of gcd(window, slide), `sum` and `count` moved
 * incrementally, `min` and `max` folded from the panes) instead of reducing the window's batches
 * again at every slide. Each parent batch is added once; the window at `t` holds the parent's
 * batches in (t − window, t], like `reduceByKey(op).window(window, slide).reduceByKey(op)`.
 * The aggregators keep one shard of keys per output partition (up to 16), placed as shuffles
 * place keys: the native engine updates the shards side by side on its threads and hands each
 * out as its output partition. Its checkpoint state is the aggregators' snapshots, which
 * either engine restores into any shard count.
 *
 * @example
 * pairs.reduceByKeyAndWindow("sum", "30s", "10s"); // a NamedWindowedDStream
 */
export class NamedWindowedDStream<K> extends DStream<[K, number]> implements StatefulOperator {
  readonly stateKind = "reduceByKeyAndWindow";
  /** The window's width in milliseconds. */
  readonly windowDuration: number;
  private readonly slide: number;
  private readonly state: NamedWindowState;
  /** The parent's batches up to this time (absolute ms) were added to the state. */
  private foldedThrough: number | undefined;
  /** The last change of the state in progress: changes run one at a time, in order. */
  private changing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly parent: DStream<readonly [K, unknown]>,
    readonly op: NamedReduction,
    window: Duration,
    slide: Duration | undefined,
    readonly numPartitions: number,
  ) {
    super(parent.scope);
    const { windowMs, slideMs } = windowTiming(parent.slideDuration, window, slide);
    this.windowDuration = windowMs;
    this.slide = slideMs;
    this.state = new NamedWindowState(op, windowMs, slideMs, numPartitions);
  }

  override get operatorName(): string {
    return `NamedWindowedDStream(${this.op})`;
  }

  get slideDuration(): number {
    return this.slide;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  // The parent's batches between two slides are added at the next slide.
  protected override parentRememberDuration(): number | undefined {
    const remembered = this.rememberDuration;
    return remembered === undefined ? undefined : remembered + this.slide;
  }

  // The parent's batches are computed at their own tick, and folded into the state at the
  // next slide.
  override parentsReadLater(time: number): ReadonlyArray<DStream<unknown>> {
    const zero = this.zeroTime;
    if (zero === undefined) return [];
    return inSomeWindow(time, zero, this.windowDuration, this.slide) ? [this.parent] : [];
  }

  stateFingerprint(): string {
    return `reduceByKeyAndWindow("${this.op}", ${this.windowDuration} ms, slide ${this.slide} ms, over ${this.parent.slideDuration} ms)`;
  }

  /**
   * The window state after the batch at `time`: every parent batch up to `time` added. Batches
   * must not overlap (`concurrentJobs: 1`, the default) — a later window already computed
   * would be in the state.
   */
  async saveState(time: number): Promise<SavedNamedWindowedStream> {
    const at = latestValidTime(this, time);
    if (at !== undefined) await this.getOrCompute(at);
    return this.exclusively(async () => {
      await this.foldThrough(time);
      if (this.foldedThrough !== undefined && this.foldedThrough > time) {
        throw new SluiceError(
          "SLUICE_ILLEGAL_STATE",
          `reduceByKeyAndWindow("${this.op}") cannot be checkpointed at ${time} ms: its window state already holds the batch at ${this.foldedThrough} ms (batches overlapped, concurrentJobs > 1). Run it with concurrentJobs: 1, or use the function form`,
        );
      }
      return { ...this.state.snapshot(), foldedThrough: time };
    });
  }

  checkState(state: unknown): void {
    checkSavedNamedWindow(state, `reduceByKeyAndWindow("${this.op}") state`);
  }

  restoreState(state: unknown, time: number): void {
    this.checkState(state);
    const saved = state as SavedNamedWindowedStream;
    const kernels = this.scope.kernels;
    this.state.restore(saved, kernels);
    this.foldedThrough = saved.foldedThrough;
    // The last window before the restart, recomputed from the restored panes, so the next
    // window finds its predecessor without recomputing the past.
    const at = latestValidTime(this, time);
    if (at !== undefined) {
      const zero = this.zeroTime as number;
      this.seedBatch(at, batchOf(at, this.state.emit(at - zero, this.numPartitions, false)));
    }
  }

  startFresh(time: number): void {
    this.state.reset();
    this.foldedThrough = time;
    startWithoutState(this, time);
  }

  protected async compute(time: number): Promise<Batch<[K, number]>> {
    // Windows are computed in time order: the state moves forward only.
    await this.getOrCompute(time - this.slide);
    return this.exclusively(async () => {
      await this.foldThrough(time);
      const end = time - (this.zeroTime as number);
      if (end > this.windowDuration) this.state.evict(end - this.windowDuration);
      return batchOf(time, this.state.emit(end, this.numPartitions, true));
    });
  }

  /** Runs `change` after every change started before it (it reads and moves the state). */
  private exclusively<R>(change: () => Promise<R>): Promise<R> {
    const run = this.changing.then(change);
    this.changing = run.catch(() => undefined);
    return run;
  }

  /** Adds the parent's batches after the last one added, up to `time`, that some window holds. */
  private async foldThrough(time: number): Promise<void> {
    const zero = this.zeroTime as number;
    const step = this.parent.slideDuration;
    const kernels = this.scope.kernels;
    for (let at = (this.foldedThrough ?? zero) + step; at <= time; at += step) {
      // With a slide longer than the window, batches between two windows are in none.
      if (inSomeWindow(at, zero, this.windowDuration, this.slide)) {
        const batch = await this.parent.getOrCompute(at);
        if (batch !== undefined) this.state.add(at - zero, batch, kernels);
      }
      this.foldedThrough = at;
    }
  }
}
