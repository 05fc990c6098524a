import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";
import { TextPairsBatch } from "./text-pairs-batch.js";

/** The kinds of operator whose batches depend on earlier batches. */
export type StateKind = "updateStateByKey" | "mapWithState" | "window" | "reduceByKeyAndWindow";

/**
 * An operator that carries state from batch to batch, and so must save it in checkpoints:
 * `updateStateByKey`, `mapWithState`, and the windows (their panes: the batches still inside the
 * window). The saved value is plain data, stored with `v8.serialize`.
 */
export interface StatefulOperator {
  readonly stateKind: StateKind;
  /** The settings the state depends on; a restore into different settings is refused. */
  stateFingerprint(): string;
  /** What to save for a checkpoint written after the batch at `time`. */
  saveState(time: number): Promise<unknown>;
  /**
   * Throws `SLUICE_CHECKPOINT_CORRUPT` when `state` is not what `saveState` returns (a checkpoint
   * passes its checksum whatever wrote it); changes nothing.
   */
  checkState(state: unknown): void;
  /** Restores what `saveState(time)` returned, before the batches after `time` run. */
  restoreState(state: unknown, time: number): void;
  /** No state to restore: start empty after `time` instead of recomputing the past. */
  startFresh(time: number): void;
}

/** A saved batch: its time and its partitions (`null`: the stream had no batch then). */
export interface SavedBatch<T> {
  readonly time: number;
  readonly partitions: T[][] | null;
}

/**
 * True when `stream` saves state in checkpoints.
 *
 * @example
 * const stateful = streams.filter(isStatefulOperator);
 */
export function isStatefulOperator(
  stream: DStream<unknown>,
): stream is DStream<unknown> & StatefulOperator {
  const candidate = stream as Partial<StatefulOperator>;
  return typeof candidate.stateKind === "string" && typeof candidate.saveState === "function";
}

/**
 * The last time at or before `time` at which `stream` has a batch, or `undefined` before its
 * first one.
 *
 * @example
 * latestValidTime(windowed, 5000); // 4000 for a 2 s slide from zero time 0
 */
export function latestValidTime(stream: DStream<unknown>, time: number): number | undefined {
  const zero = stream.zeroTime;
  if (zero === undefined) return undefined;
  const valid = zero + Math.floor((time - zero) / stream.slideDuration) * stream.slideDuration;
  return valid > zero ? valid : undefined;
}

/**
 * The batches of `stream` at its valid times in (`after`, `upTo`], computing any not computed yet
 * (a window's parent is only read when the window slides, but the batches it holds must be saved
 * when the checkpoint is written).
 *
 * @example
 * const panes = await saveBatches(parent, time - windowMs, time);
 */
export async function saveBatches<T>(
  stream: DStream<T>,
  after: number,
  upTo: number,
): Promise<SavedBatch<T>[]> {
  const saved: SavedBatch<T>[] = [];
  const last = latestValidTime(stream, upTo);
  if (last === undefined) return saved;
  for (let time = last; time > after && stream.isTimeValid(time); time -= stream.slideDuration) {
    const batch = await stream.getOrCompute(time);
    saved.unshift({
      time,
      partitions:
        batch === undefined
          ? null
          : // Text pairs are made into rows for the copy only, not kept as rows with the batch.
            (batch instanceof TextPairsBatch ? batch.rowsOnce() : batch.partitions).map(
              (partition) => [...partition] as T[],
            ),
    });
  }
  return saved;
}

/**
 * Puts saved batches back in place of computing them.
 *
 * @example
 * restoreBatches(parent, saved);
 */
export function restoreBatches<T>(stream: DStream<T>, saved: readonly SavedBatch<T>[]): void {
  for (const { time, partitions } of saved) {
    stream.seedBatch(time, partitions === null ? undefined : asBatch(time, partitions));
  }
}

/**
 * A batch from its time and partitions.
 *
 * @example
 * asBatch(3000, [[1, 2], [3]]);
 */
export function asBatch<T>(time: number, partitions: T[][]): Batch<T> {
  return { time, partitions };
}

/**
 * `[key, value]` pairs spread over `numPartitions` by key, as shuffles place them, so a restore
 * fits even when the number of partitions changed.
 *
 * @example
 * partitionPairs([["a", 1], ["b", 2]], 2);
 */
export function partitionPairs<K, V>(
  pairs: ReadonlyArray<readonly [K, V]>,
  numPartitions: number,
): [K, V][][] {
  const partitions: [K, V][][] = Array.from({ length: numPartitions }, () => []);
  for (const [key, value] of pairs) {
    (partitions[partitionOfKey(key, numPartitions)] as [K, V][]).push([key, value]);
  }
  return partitions;
}

/** The saved state of an operator whose batch is its state (`updateStateByKey`). */
export interface SavedPairs<K, S> {
  readonly time: number | undefined;
  readonly pairs: [K, S][] | null;
}

/**
 * Saves the batch of `stream` at its last time up to `time`, as `[key, state]` pairs.
 *
 * @example
 * const saved = await savePairs(stateStream, 5000);
 */
export async function savePairs<K, S>(
  stream: DStream<[K, S]>,
  time: number,
): Promise<SavedPairs<K, S>> {
  const at = latestValidTime(stream, time);
  if (at === undefined) return { time: undefined, pairs: null };
  const batch = await stream.getOrCompute(at);
  return { time: at, pairs: batch === undefined ? null : batch.partitions.flat() };
}

/**
 * Restores what `savePairs` saved, spread over `numPartitions` by key.
 *
 * @example
 * restorePairs(stateStream, saved, 4);
 */
export function restorePairs<K, S>(
  stream: DStream<[K, S]>,
  saved: SavedPairs<K, S>,
  numPartitions: number,
): void {
  const { time, pairs } = saved;
  if (time === undefined) return;
  stream.seedBatch(
    time,
    pairs === null ? undefined : asBatch(time, partitionPairs(pairs, numPartitions)),
  );
}

/**
 * Marks the last time of `stream` up to `time` as having no batch, so the first batch after a
 * restore without state starts empty instead of recomputing every earlier batch.
 *
 * @example
 * startWithoutState(stateStream, 5000);
 */
export function startWithoutState(stream: DStream<unknown>, time: number): void {
  const at = latestValidTime(stream, time);
  if (at !== undefined) stream.seedBatch(at, undefined);
}
