import { SluiceError } from "../errors/sluice-error.js";
import type { Kernels, KeyColumn, WindowAggregator, WindowKeyKind } from "../kernels/kernels.js";
import { isUtf8Column } from "../kernels/key-column.js";
import { KeyedMap } from "../util/keyed-map.js";
import { partitionOfKey } from "../util/partition-of-key.js";
import type { Batch } from "./batch.js";
import { type ColumnarPartition, columnsOf, materialise, pairValues } from "./columnar-batch.js";
import { type NamedReduction, requireNumber } from "./named-reductions.js";
import {
  decodeIntegerKeys,
  EMPTY_VALUES,
  encodeKeys,
  type FamilyKeys,
  familyPartition,
  type KeyFamily,
  keyFamily,
} from "./pair-columns.js";

/** Where a key's window state lives: a kernel family, or `other` (ids given in JavaScript). */
type StateFamily = KeyFamily | "other";

const FAMILIES: readonly StateFamily[] = ["utf8", "number", "bigint", "other"];

/**
 * Most output partitions the kernel families' aggregators shard their keys into (one shard
 * per partition, updated side by side on the native engine's threads); past it a shard per
 * partition costs more in per-call overhead than it saves, and the aggregators keep one.
 */
const MAX_SHARDED_PARTITIONS = 16;

/** What checkpoints hold for a named windowed reduction (plain data for `v8.serialize`). */
export interface SavedNamedWindow {
  /** One `WindowAggregator` snapshot (the kernels' versioned bytes) per key family in use. */
  readonly aggregators: ReadonlyArray<{ readonly family: string; readonly snapshot: Uint8Array }>;
  /** Keys of no kernel family, with the ids the `other` aggregator knows them by. */
  readonly otherKeys: ReadonlyArray<readonly [number, unknown]>;
  readonly nextOtherId: number;
}

/**
 * The state of `reduceByKeyAndWindow(op, …)`: one kernels `WindowAggregator` per key family
 * (strings, safe integers, bigints — created when a family first appears, from the kernels the
 * process uses), and for keys of no family (objects, fractions, ...) an i64 aggregator over ids
 * given here, so every key goes through the same panes and rules. Times are relative to the
 * stream's zero time, so panes line up with the batches. With the output's partition count
 * known up front (`partitions`, up to 16), the kernel families' aggregators keep one shard per
 * output partition, which the native engine updates in parallel and emits as the partitions.
 *
 * @example
 * const state = new NamedWindowState("sum", 30_000, 1000, 4);
 * state.add(1000, batch, kernels);
 * const partitions = state.emit(1000, 4, true);
 */
export class NamedWindowState {
  private readonly aggregators = new Map<StateFamily, WindowAggregator>();
  private otherIds = new KeyedMap<unknown, number>();
  private otherKeys = new Map<number, unknown>();
  private nextOtherId = 0;

  constructor(
    private readonly op: NamedReduction,
    private readonly windowMs: number,
    private readonly slideMs: number,
    /** The partition count `emit` is usually called with (sizes the aggregators' shards). */
    private readonly partitions = 1,
  ) {}

  /** Adds the pairs of a batch with time `timeMs` (columns as they are, JS pairs by family). */
  add(timeMs: number, batch: Batch<readonly [unknown, unknown]>, kernels: Kernels): void {
    const op = this.op;
    const columns = columnsOf(batch, "pairs");
    if (columns?.every((partition) => isUtf8Column(partition.keys))) {
      // Partition after partition is row order: the same panes as one column would give. In
      // one call, so that the native shards take a shuffle's partitions side by side.
      this.aggregator("utf8", kernels).addParts(
        timeMs,
        columns.map((partition) => ({
          keys: partition.keys,
          values: op === "count" ? EMPTY_VALUES : pairValues(partition),
        })),
      );
      return;
    }
    const split = new Map<StateFamily, { keys: unknown[]; values: number[] }>();
    for (const partition of batch.partitions) {
      for (const [key, value] of partition) {
        requireNumber(op, key, value);
        // -0 is the key 0 here (a KeyedMap would keep whichever of the two came first).
        const family = Object.is(key, -0) ? "number" : (keyFamily(key) ?? "other");
        let rows = split.get(family);
        if (rows === undefined) {
          rows = { keys: [], values: [] };
          split.set(family, rows);
        }
        rows.keys.push(family === "other" ? this.otherId(key) : key);
        if (op !== "count") rows.values.push(value as number);
      }
    }
    for (const family of FAMILIES) {
      const rows = split.get(family);
      if (rows === undefined) continue;
      const encoded = encodeKeys(rows.keys, family === "other" ? "number" : family);
      const values = op === "count" ? EMPTY_VALUES : Float64Array.from(rows.values);
      this.aggregator(family, kernels).add(timeMs, { keys: encoded.keys, values });
    }
  }

  /** Drops the panes with data at or before `timeMs` (keys left in no pane are forgotten). */
  evict(timeMs: number): void {
    for (const aggregator of this.aggregators.values()) aggregator.evict(timeMs);
  }

  /**
   * The window ending at `windowEndMs`, spread over `numPartitions` as shuffles place keys:
   * within a partition, string keys, then numbers, then bigints, then other keys, each in the
   * order they entered the window state. Columns when only string keys are present. With
   * `holdsOnlyThisWindow` (no data after `windowEndMs` added, everything before the window
   * evicted), ids of other keys not emitted are forgotten.
   */
  emit(
    windowEndMs: number,
    numPartitions: number,
    holdsOnlyThisWindow: boolean,
  ): ColumnarPartition[] | unknown[][] {
    const parts: (ColumnarPartition | [unknown, number][])[][] = [];
    let emittedOther: Set<number> | undefined;
    for (const family of FAMILIES) {
      const aggregator = this.aggregators.get(family);
      if (aggregator === undefined) continue;
      if (family === "other") {
        const groups = aggregator.emit(windowEndMs);
        emittedOther = new Set();
        const ids = decodeIntegerKeys(groups.keys as BigInt64Array, "number") as number[];
        const out: [unknown, number][][] = Array.from({ length: numPartitions }, () => []);
        ids.forEach((id, row) => {
          (emittedOther as Set<number>).add(id);
          const key = this.otherKeys.get(id);
          (out[partitionOfKey(key, numPartitions)] as [unknown, number][]).push([
            key,
            groups.values[row] as number,
          ]);
        });
        parts.push(out);
        continue;
      }
      parts.push(
        aggregator.emitPartitioned(windowEndMs, numPartitions).map((part) => {
          const keys =
            family === "utf8"
              ? ({ family, keys: part.keys as KeyColumn } satisfies FamilyKeys)
              : ({ family, keys: part.keys as BigInt64Array } satisfies FamilyKeys);
          return familyPartition({ keys, values: part.values });
        }),
      );
    }
    if (emittedOther !== undefined && holdsOnlyThisWindow) this.forgetOtherKeysBut(emittedOther);
    if (parts.length === 0) return Array.from({ length: numPartitions }, () => []);
    if (parts.length === 1 && parts[0]?.every((part) => !Array.isArray(part))) {
      return parts[0] as ColumnarPartition[];
    }
    return Array.from({ length: numPartitions }, (_, p) => {
      const records: unknown[] = [];
      for (const family of parts) {
        const part = family[p] as ColumnarPartition | unknown[];
        for (const record of Array.isArray(part) ? part : materialise(part)) records.push(record);
      }
      return records;
    });
  }

  /** The state as plain data: the aggregators' snapshots and the ids of other keys. */
  snapshot(): SavedNamedWindow {
    return {
      aggregators: [...this.aggregators].map(([family, aggregator]) => ({
        family,
        snapshot: aggregator.snapshot(),
      })),
      otherKeys: [...this.otherKeys],
      nextOtherId: this.nextOtherId,
    };
  }

  /** Forgets everything: an empty window. */
  reset(): void {
    this.aggregators.clear();
    this.otherIds = new KeyedMap();
    this.otherKeys = new Map();
    this.nextOtherId = 0;
  }

  /** Replaces the state with a snapshot (written by either engine). */
  restore(saved: SavedNamedWindow, kernels: Kernels): void {
    this.reset();
    for (const { family, snapshot } of saved.aggregators) {
      if (!FAMILIES.includes(family as StateFamily)) {
        throw new SluiceError(
          "SLUICE_CHECKPOINT_INCOMPATIBLE",
          `the saved window state holds keys of an unknown kind "${family}"`,
        );
      }
      this.aggregator(family as StateFamily, kernels).restore(snapshot);
    }
    for (const [id, key] of saved.otherKeys) {
      this.otherIds.set(key, id);
      this.otherKeys.set(id, key);
    }
    this.nextOtherId = saved.nextOtherId;
  }

  private aggregator(family: StateFamily, kernels: Kernels): WindowAggregator {
    let aggregator = this.aggregators.get(family);
    if (aggregator === undefined) {
      const keyKind: WindowKeyKind = family === "utf8" ? "utf8" : "i64";
      // Other keys are placed by the key, not by the id the aggregator knows: one shard.
      const sharded = family !== "other" && this.partitions <= MAX_SHARDED_PARTITIONS;
      aggregator = kernels.createWindowAggregator({
        op: this.op,
        windowMs: this.windowMs,
        slideMs: this.slideMs,
        keyKind,
        shards: sharded ? this.partitions : 1,
      });
      this.aggregators.set(family, aggregator);
    }
    return aggregator;
  }

  private otherId(key: unknown): number {
    let id = this.otherIds.get(key);
    if (id === undefined) {
      id = this.nextOtherId++;
      this.otherIds.set(key, id);
      this.otherKeys.set(id, key);
    }
    return id;
  }

  /**
   * When the state holds only the window just emitted, its keys are exactly the ones emitted:
   * the ids of the others are dropped, so ever-new keys do not grow memory.
   */
  private forgetOtherKeysBut(emitted: ReadonlySet<number>): void {
    if (emitted.size === this.otherKeys.size) return;
    const ids = new KeyedMap<unknown, number>();
    const keys = new Map<number, unknown>();
    for (const [id, key] of this.otherKeys) {
      if (!emitted.has(id)) continue;
      ids.set(key, id);
      keys.set(id, key);
    }
    this.otherIds = ids;
    this.otherKeys = keys;
  }
}
