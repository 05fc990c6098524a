import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import { checkSavedTimedStates } from "./saved-state-checks.js";
import { partitionByKey } from "./shuffle.js";
import { StateImpl, type StateSpec } from "./state.js";
import { latestValidTime, type StatefulOperator, startWithoutState } from "./stateful-operator.js";

/** A key's state and the batch time it was last touched (for timeouts). */
export interface TimedState<S> {
  readonly state: S;
  readonly updatedAt: number;
}

/** One partition of `mapWithState` at one batch: every key's state, and what the function returned. */
export interface MapWithStateRecord<K, S, E> {
  readonly states: KeyedMap<K, TimedState<S>>;
  readonly mapped: E[];
}

/**
 * The state behind `mapWithState` (Spark's `InternalMapWithStateDStream` and
 * `MapWithStateRDD`): one record per partition holding the key → state map, copied from the
 * previous batch and updated by the batch's records, then scanned for keys idle past the timeout.
 * Spark only scans for timeouts on checkpoint batches; Sluice scans every batch.
 *
 * @example
 * pairs.mapWithState({ fn }); // keeps its state in an InternalMapWithStateDStream
 */
export class InternalMapWithStateDStream<K, V, S, E>
  extends OneParentDStream<readonly [K, V], MapWithStateRecord<K, S, E>>
  implements StatefulOperator
{
  readonly stateKind = "mapWithState";

  constructor(
    parent: DStream<readonly [K, V]>,
    private readonly spec: StateSpec<K, V, S, E>,
    private readonly numPartitions: number,
    private readonly timeoutMs: number | undefined,
  ) {
    super(parent);
  }

  stateFingerprint(): string {
    return "mapWithState";
  }

  /** Checkpoints hold every key's state and when it was last updated (for timeouts). */
  async saveState(time: number): Promise<SavedTimedStates<K, S>> {
    const at = latestValidTime(this, time);
    if (at === undefined) return { time: undefined, entries: [] };
    const batch = await this.getOrCompute(at);
    const entries: [K, S, number][] = [];
    for (const partition of batch?.partitions ?? []) {
      for (const record of partition) {
        for (const [key, entry] of record.states) entries.push([key, entry.state, entry.updatedAt]);
      }
    }
    return { time: at, entries };
  }

  checkState(state: unknown): void {
    checkSavedTimedStates(state, "mapWithState state");
  }

  restoreState(state: unknown): void {
    this.checkState(state);
    const { time, entries } = state as SavedTimedStates<K, S>;
    if (time === undefined) return;
    const maps = Array.from({ length: this.numPartitions }, () => new KeyedMap<K, TimedState<S>>());
    for (const [key, keyState, updatedAt] of entries) {
      const map = maps[partitionOfKey(key, this.numPartitions)] as KeyedMap<K, TimedState<S>>;
      map.set(key, { state: keyState, updatedAt });
    }
    this.seedBatch(time, { time, partitions: maps.map((states) => [{ states, mapped: [] }]) });
  }

  startFresh(time: number): void {
    startWithoutState(this, time);
  }

  protected async compute(time: number): Promise<Batch<MapWithStateRecord<K, S, E>>> {
    const previous = await this.getOrCompute(time - this.slideDuration);
    const previousStates = previous
      ? previous.partitions.map((partition) => (partition[0] as MapWithStateRecord<K, S, E>).states)
      : this.initialStates(time);
    const data = (await this.parent.getOrCompute(time)) ?? { time, partitions: [] };
    const partitionedData = partitionByKey(data, this.numPartitions);
    const threshold = this.timeoutMs === undefined ? undefined : time - this.timeoutMs;
    const state = new StateImpl<S>();
    const info = { time };
    const fn = this.spec.fn;

    const partitions = previousStates.map((previousMap, index) => {
      const states = previousMap.copy();
      const mapped: E[] = [];
      for (const [key, value] of partitionedData[index] ?? []) {
        const entry = states.get(key);
        state.wrap(entry !== undefined, entry?.state);
        const returned = fn(key, value, state, info);
        if (state.isRemoved()) {
          states.delete(key);
        } else if (state.isUpdated() || (state.exists() && threshold !== undefined)) {
          // With a timeout, any record for a key keeps it alive, updated or not.
          states.set(key, { state: state.get(), updatedAt: time });
        }
        if (returned !== undefined) mapped.push(returned);
      }
      if (threshold !== undefined) {
        for (const [key, entry] of [...states]) {
          if (entry.updatedAt >= threshold) continue;
          state.wrapTimingOut(entry.state);
          const returned = fn(key, undefined, state, info);
          if (returned !== undefined) mapped.push(returned);
          states.delete(key);
        }
      }
      return [{ states, mapped }];
    });
    return { time, partitions };
  }

  /** The initial state (if any) spread over the partitions, stamped with the first batch time. */
  private initialStates(time: number): KeyedMap<K, TimedState<S>>[] {
    const maps = Array.from({ length: this.numPartitions }, () => new KeyedMap<K, TimedState<S>>());
    for (const [key, initial] of this.spec.initialState ?? []) {
      (maps[partitionOfKey(key, this.numPartitions)] as KeyedMap<K, TimedState<S>>).set(key, {
        state: initial,
        updatedAt: time,
      });
    }
    return maps;
  }
}

/** What checkpoints hold for `mapWithState`: `[key, state, updatedAt]` per key. */
interface SavedTimedStates<K, S> {
  readonly time: number | undefined;
  readonly entries: [K, S, number][];
}
