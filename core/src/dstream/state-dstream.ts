import type { Batch } from "./batch.js";
import type { DStream, UpdateStateInfo } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import { checkSavedPairs } from "./saved-state-checks.js";
import { cogroup, combineByKey } from "./shuffle.js";
import {
  restorePairs,
  type SavedPairs,
  type StatefulOperator,
  savePairs,
  startWithoutState,
} from "./stateful-operator.js";

type Update<K, V, S> = (
  values: V[],
  state: S | undefined,
  info: UpdateStateInfo<K>,
) => S | undefined;

/**
 * `updateStateByKey` (Spark's `StateDStream`): each batch, the previous state cogrouped with the
 * batch's values, and `update` called for every key that has either. Without a batch (Spark's
 * `None`) the update runs over the previous state alone; before any state, the initial state
 * stands in for it.
 *
 * @example
 * pairs.updateStateByKey((values, total: number | undefined) => (total ?? 0) + values.length);
 */
export class StateDStream<K, V, S>
  extends OneParentDStream<readonly [K, V], [K, S]>
  implements StatefulOperator
{
  readonly stateKind = "updateStateByKey";
  private readonly initial: ReadonlyArray<readonly [K, S]> | undefined;

  constructor(
    parent: DStream<readonly [K, V]>,
    private readonly update: Update<K, V, S>,
    private readonly numPartitions: number,
    initialState: Iterable<readonly [K, S]> | undefined,
  ) {
    super(parent);
    this.initial = initialState === undefined ? undefined : [...initialState];
  }

  stateFingerprint(): string {
    return "updateStateByKey";
  }

  /** Checkpoints hold the state at the last batch: every key's `[key, state]`. */
  saveState(time: number): Promise<SavedPairs<K, S>> {
    return savePairs(this, time);
  }

  checkState(state: unknown): void {
    checkSavedPairs(state, "updateStateByKey state");
  }

  restoreState(state: unknown): void {
    this.checkState(state);
    restorePairs(this, state as SavedPairs<K, S>, this.numPartitions);
  }

  startFresh(time: number): void {
    startWithoutState(this, time);
  }

  protected async compute(time: number): Promise<Batch<[K, S]> | undefined> {
    const previous = await this.getOrCompute(time - this.slideDuration);
    const values = await this.parent.getOrCompute(time);
    if (previous !== undefined) {
      if (values !== undefined) return this.updateWith(time, previous, values);
      // No new batch: every key with state still gets its update, with no values.
      const partitions = previous.partitions.map((partition) => {
        const out: [K, S][] = [];
        for (const [key, state] of partition) this.apply(out, key, [], state, time);
        return out;
      });
      return { time, partitions };
    }
    if (values === undefined) return undefined;
    if (this.initial !== undefined) {
      return this.updateWith(time, { time, partitions: [this.initial] }, values);
    }
    const grouped = combineByKey(
      values,
      {
        createCombiner: (value: V) => [value],
        mergeValue: (all: V[], value: V) => {
          all.push(value);
          return all;
        },
        mergeCombiners: (left: V[], right: V[]) => left.concat(right),
      },
      this.numPartitions,
      false,
    );
    const partitions = grouped.map((partition) => {
      const out: [K, S][] = [];
      for (const [key, keyValues] of partition) this.apply(out, key, keyValues, undefined, time);
      return out;
    });
    return { time, partitions };
  }

  /** Keys of the state first (in their order), then new keys, as the cogroup reads them. */
  private updateWith(
    time: number,
    previous: Batch<readonly [K, S]>,
    values: Batch<readonly [K, V]>,
  ): Batch<[K, S]> {
    const grouped = cogroup<K>([previous, values], this.numPartitions);
    const partitions = grouped.map((partition) => {
      const out: [K, S][] = [];
      for (const [key, [states, keyValues]] of partition) {
        const state = (states as S[]).length > 0 ? ((states as S[])[0] as S) : undefined;
        this.apply(out, key, keyValues as V[], state, time);
      }
      return out;
    });
    return { time, partitions };
  }

  private apply(out: [K, S][], key: K, values: V[], state: S | undefined, time: number): void {
    const next = this.update(values, state, { time, key });
    if (next !== undefined) out.push([key, next]);
  }
}
