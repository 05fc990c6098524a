import { SluiceError } from "../errors/sluice-error.js";
import type { Duration } from "../util/duration.js";

/**
 * The state of one key in `mapWithState` (Spark's `State`): read it, replace it, remove it. A
 * key that is timing out can be read but not updated or removed.
 *
 * @example
 * const total = (state.getOption() ?? 0) + value;
 * if (!state.isTimingOut()) state.update(total);
 */
export interface State<S> {
  /** True when the key has a state. */
  exists(): boolean;
  /** The state; throws `SLUICE_ILLEGAL_STATE` when there is none. */
  get(): S;
  /** The state, or `undefined` when there is none. */
  getOption(): S | undefined;
  /** Replaces the state (not allowed after `remove` or while timing out). */
  update(state: S): void;
  /** Removes the key's state (not allowed twice or while timing out). */
  remove(): void;
  /** True when the call is for a key that timed out (idle longer than the timeout). */
  isTimingOut(): boolean;
}

/** What `mapWithState` needs: the function, and optionally initial state, timeout, partitions. */
export interface StateSpec<K, V, S, E> {
  /**
   * Called once per new record (`value` set) and once per key timing out (`value` undefined,
   * `state.isTimingOut()` true); what it returns is emitted, `undefined` emits nothing.
   */
  fn(key: K, value: V | undefined, state: State<S>, info: { readonly time: number }): E | undefined;
  /** State every key starts with, before the first batch. */
  readonly initialState?: Iterable<readonly [K, S]>;
  /** Keys that receive no record for longer than this time out (and are removed). */
  readonly timeout?: Duration;
  /** Partitions of the state (default: the context's default parallelism). */
  readonly numPartitions?: number;
}

/**
 * The one `State` object `mapWithState` re-points at each key in turn (Spark's `StateImpl`).
 *
 * @example
 * const state = new StateImpl<number>();
 * state.wrap(true, 3);
 */
export class StateImpl<S> implements State<S> {
  private value: S | undefined;
  private defined = false;
  private timingOut = false;
  private updated = false;
  private removed = false;

  /** Points at a key's state (`defined` false for a key without state). */
  wrap(defined: boolean, value: S | undefined): void {
    this.value = value;
    this.defined = defined;
    this.timingOut = false;
    this.updated = false;
    this.removed = false;
  }

  /** Points at the state of a key that is timing out. */
  wrapTimingOut(value: S): void {
    this.value = value;
    this.defined = true;
    this.timingOut = true;
    this.updated = false;
    this.removed = false;
  }

  exists(): boolean {
    return this.defined;
  }

  get(): S {
    if (!this.defined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "State.get: the key has no state (check exists() or use getOption())",
      );
    }
    return this.value as S;
  }

  getOption(): S | undefined {
    return this.defined ? this.value : undefined;
  }

  update(state: S): void {
    if (this.removed) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "State.update: cannot update the state after it has been removed",
      );
    }
    if (this.timingOut) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "State.update: cannot update the state of a key that is timing out",
      );
    }
    this.value = state;
    this.defined = true;
    this.updated = true;
  }

  remove(): void {
    if (this.timingOut) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "State.remove: cannot remove the state of a key that is timing out (it is removed anyway)",
      );
    }
    if (this.removed) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        "State.remove: the state has already been removed",
      );
    }
    this.defined = false;
    this.updated = false;
    this.removed = true;
  }

  isTimingOut(): boolean {
    return this.timingOut;
  }

  /** True when `update` was called since the last wrap. */
  isUpdated(): boolean {
    return this.updated;
  }

  /** True when `remove` was called since the last wrap. */
  isRemoved(): boolean {
    return this.removed;
  }
}
