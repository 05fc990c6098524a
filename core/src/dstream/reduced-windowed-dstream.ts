import type { Duration } from "../util/duration.js";
import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { IncrementalWindow } from "./incremental-window.js";
import { checkSavedBatches, stateShapeError } from "./saved-state-checks.js";
import {
  latestValidTime,
  restoreBatches,
  type SavedBatch,
  type StatefulOperator,
  saveBatches,
  startWithoutState,
} from "./stateful-operator.js";
import { inSomeWindow, windowTiming } from "./window-timing.js";

/** What `reduceByKeyAndWindow` with an inverse function needs. */
export interface ReducedWindowSpec<K, V> {
  readonly reduce: (a: V, b: V) => V;
  readonly inverse: (a: V, b: V) => V;
  readonly filter: ((pair: [K, V]) => boolean) | undefined;
  readonly window: Duration;
  readonly slide: Duration | undefined;
  readonly numPartitions: number;
}

/**
 * `reduceByKeyAndWindow` with an inverse function (Spark's `ReducedWindowedDStream`): each window
 * is the previous window's value per key, minus (`inverse`) the per-batch reductions that left
 * the window, plus (`reduce`) those that entered it. Keys stay when their value falls back to the
 * identity; `filter` is the way to drop them.
 *
 * @example
 * pairs.reduceByKeyAndWindow((a, b) => a + b, { window: "30s", inverse: (a, b) => a - b });
 */
export class ReducedWindowedDStream<K, V> extends DStream<[K, V]> implements StatefulOperator {
  readonly stateKind = "reduceByKeyAndWindow";
  /** The window's width in milliseconds. */
  readonly windowDuration: number;
  private readonly slide: number;
  private readonly reduced: DStream<[K, V]>;
  /** The last window made, kept so that the next one is made from it. */
  private readonly windows: IncrementalWindow<K, V>;

  constructor(parent: DStream<readonly [K, V]>, spec: ReducedWindowSpec<K, V>) {
    super(parent.scope);
    const { windowMs, slideMs } = windowTiming(parent.slideDuration, spec.window, spec.slide);
    this.windowDuration = windowMs;
    this.slide = slideMs;
    this.reduced = parent.reduceByKey(spec.reduce, spec.numPartitions);
    this.windows = new IncrementalWindow(spec.numPartitions, spec);
  }

  get slideDuration(): number {
    return this.slide;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.reduced];
  }

  protected override parentRememberDuration(): number | undefined {
    const remembered = this.rememberDuration;
    return remembered === undefined ? undefined : remembered + this.windowDuration;
  }

  // The per-batch reductions are computed at their own tick (from batches the streams above
  // keep one slide) and kept while a window holds them, or until they leave it.
  override parentsReadLater(time: number): ReadonlyArray<DStream<unknown>> {
    const zero = this.zeroTime;
    if (zero === undefined) return [];
    return inSomeWindow(time, zero, this.windowDuration, this.slide) ? [this.reduced] : [];
  }

  stateFingerprint(): string {
    return `reduceByKeyAndWindow(${this.windowDuration} ms, slide ${this.slide} ms, over ${this.reduced.slideDuration} ms)`;
  }

  /**
   * Checkpoints hold the last window and the per-batch reductions that may still leave the
   * window (those of the last window and slide).
   */
  async saveState(time: number): Promise<SavedReducedWindow<K, V>> {
    const at = latestValidTime(this, time);
    const window = at === undefined ? undefined : await this.getOrCompute(at);
    return {
      window:
        at === undefined
          ? []
          : [
              {
                time: at,
                partitions: window === undefined ? null : window.partitions.map((p) => [...p]),
              },
            ],
      panes: await saveBatches(this.reduced, time - this.windowDuration - this.slide, time),
    };
  }

  checkState(state: unknown): void {
    if (typeof state !== "object" || state === null) {
      throw stateShapeError("reduceByKeyAndWindow state", "it is not an object");
    }
    const { window, panes } = state as Partial<SavedReducedWindow<K, V>>;
    checkSavedBatches(window, "reduceByKeyAndWindow window", { pairs: true });
    checkSavedBatches(panes, "reduceByKeyAndWindow panes", { pairs: true });
  }

  restoreState(state: unknown): void {
    this.checkState(state);
    const { window, panes } = state as SavedReducedWindow<K, V>;
    restoreBatches(this, window);
    restoreBatches(this.reduced, panes);
  }

  startFresh(time: number): void {
    startWithoutState(this, time);
  }

  protected async compute(time: number): Promise<Batch<[K, V]>> {
    const step = this.reduced.slideDuration;
    //   |-- previous window --|
    //         |-- current window --|
    //   |old |                |new |
    const currentBegin = time - this.windowDuration + step;
    const previousEnd = time - this.slide;
    const previousBegin = currentBegin - this.slide;
    // With a slide longer than the window the two windows do not touch: the old batches are then
    // exactly the previous window and the new ones exactly the current window. (Spark's ranges
    // overlap in that case and count the batches between the windows.)
    // The batches that entered are asked for first and awaited last: the ones that left are
    // taken out of the previous window meanwhile (under local[N] the new per-batch reduction is
    // usually still on the executors; the scheduler starts it before the outputs).
    const entering = this.reduced.slice(Math.max(previousEnd, currentBegin - step) + step, time);
    entering.catch(() => undefined);
    const oldBatches = await this.reduced.slice(
      previousBegin,
      Math.min(currentBegin - step, previousEnd),
    );
    const previous = (await this.getOrCompute(previousEnd)) ?? {
      time: previousEnd,
      partitions: [],
    };
    const slide = this.windows.leave(previous, oldBatches, time);
    const batch = { time, partitions: slide.enter(await entering) };
    this.windows.made(batch);
    return batch;
  }
}

/** What checkpoints hold for `reduceByKeyAndWindow` with an inverse. */
interface SavedReducedWindow<K, V> {
  readonly window: SavedBatch<[K, V]>[];
  readonly panes: SavedBatch<[K, V]>[];
}
