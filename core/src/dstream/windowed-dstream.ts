import type { Duration } from "../util/duration.js";
import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { checkSavedBatches } from "./saved-state-checks.js";
import {
  restoreBatches,
  type SavedBatch,
  type StatefulOperator,
  saveBatches,
} from "./stateful-operator.js";
import { inSomeWindow, windowTiming } from "./window-timing.js";

/**
 * `window`: every slide, the union of the parent's batches in (t − window, t] (Spark's
 * `WindowedDStream`). Windows near the start cover fewer batches and are emitted all the same.
 *
 * @example
 * events.window("1m", "10s"); // a WindowedDStream
 */
export class WindowedDStream<T> extends DStream<T> implements StatefulOperator {
  readonly stateKind = "window";
  /** The window's width in milliseconds. */
  readonly windowDuration: number;
  private readonly slide: number;

  constructor(
    private readonly parent: DStream<T>,
    window: Duration,
    slide?: Duration,
  ) {
    super(parent.scope);
    const { windowMs, slideMs } = windowTiming(parent.slideDuration, window, slide);
    this.windowDuration = windowMs;
    this.slide = slideMs;
  }

  get slideDuration(): number {
    return this.slide;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  protected override parentRememberDuration(): number | undefined {
    const remembered = this.rememberDuration;
    return remembered === undefined ? undefined : remembered + this.windowDuration;
  }

  // The parent's batches are computed at their own tick and kept while a window holds them.
  override parentsReadLater(time: number): ReadonlyArray<DStream<unknown>> {
    const zero = this.zeroTime;
    if (zero === undefined) return [];
    return inSomeWindow(time, zero, this.windowDuration, this.slide) ? [this.parent] : [];
  }

  stateFingerprint(): string {
    return `window(${this.windowDuration} ms, slide ${this.slide} ms, over ${this.parent.slideDuration} ms)`;
  }

  /** Checkpoints hold the panes: the parent's batches still inside the window. */
  saveState(time: number): Promise<SavedBatch<T>[]> {
    return saveBatches(this.parent, time - this.windowDuration, time);
  }

  checkState(state: unknown): void {
    checkSavedBatches(state, "window state", { pairs: false });
  }

  restoreState(state: unknown): void {
    this.checkState(state);
    restoreBatches(this.parent, state as SavedBatch<T>[]);
  }

  startFresh(): void {
    // The parent's earlier batches are recomputed as empty: the window starts empty.
  }

  protected async compute(time: number): Promise<Batch<T>> {
    const from = time - this.windowDuration + this.parent.slideDuration;
    const batches = await this.parent.slice(from, time);
    return { time, partitions: batches.flatMap((batch) => batch.partitions) };
  }
}
