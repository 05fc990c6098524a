import fc from "fast-check";
import {
  type AggregateOp,
  JsKernels,
  type KeyColumn,
  keyColumnFromStrings,
  NativeKernels,
  type WindowAggregator,
  type WindowKeyKind,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

// A sharded native aggregator against the TypeScript twin (one shard): sharding must change
// neither values nor order, nor the snapshot bytes.
const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

type Groups = { keys: KeyColumn | BigInt64Array; values: Float64Array };

/** Rows as comparable text: key bytes or integer, and the value's bits (NaN canonical). */
function rowsOf({ keys, values }: Groups): string[] {
  const bits = new BigUint64Array(Float64Array.from(values).buffer);
  return Array.from(values, (value, row) => {
    const key =
      keys instanceof BigInt64Array
        ? String(keys[row])
        : Buffer.from(
            keys.keys.subarray(keys.offsets[row] as number, keys.offsets[row + 1] as number),
          ).toString("hex");
    return `${key}=${Number.isNaN(value) ? "NaN" : (bits[row] as bigint).toString(16)}`;
  });
}

type Step<K> =
  | { kind: "add"; panes: number; rows: Array<[K, number]>; split: "none" | "cut" | "hash" }
  | { kind: "emit"; slides: number; partitions: number }
  | { kind: "evict" }
  | { kind: "swap"; shards: number };

function stepsOf<K>(key: fc.Arbitrary<K>): fc.Arbitrary<Step<K>[]> {
  const value = fc.oneof(
    fc.integer({ min: -100, max: 100 }),
    fc.double(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  );
  return fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant("add" as const),
          panes: fc.integer({ min: 0, max: 2 }),
          rows: fc.array(fc.tuple(key, value), { maxLength: 30 }),
          split: fc.constantFrom("none" as const, "cut" as const, "hash" as const),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("emit" as const),
          slides: fc.integer({ min: 0, max: 2 }),
          partitions: fc.integer({ min: 1, max: 5 }),
        }),
      },
      { weight: 2, arbitrary: fc.constant({ kind: "evict" as const }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("swap" as const),
          shards: fc.integer({ min: 1, max: 4 }),
        }),
      },
    ),
    { maxLength: 30 },
  );
}

/**
 * Drives a native aggregator of `shards` shards and the twin through the same steps: every
 * emit (whole, partitioned as many ways as the shards, and another way) gives the same rows in
 * the same order, and after every step the snapshots are the same bytes. A swap restores each
 * engine from the other's snapshot, the native one into a new shard count.
 */
function runBoth<K extends WindowKeyKind, Key>(
  keyKind: K,
  op: AggregateOp,
  shards: number,
  steps: Step<Key>[],
  toBatch: (rows: Array<[Key, number]>) => Parameters<WindowAggregator<K>["add"]>[1],
): void {
  const paneMs = 100;
  const slideMs = 2 * paneMs;
  const windowMs = 3 * slideMs;
  const options = { op, windowMs, slideMs, keyKind };
  let sharded = native.createWindowAggregator({ ...options, shards });
  let twin = js.createWindowAggregator(options);
  let now = 0;
  let lastEnd = 0;
  for (const step of steps) {
    if (step.kind === "add") {
      now += step.panes * paneMs;
      // The sharded aggregator gets the rows in parts (cut anywhere, or placed by hash as a
      // shuffle's partitions are); the twin gets the parts one after the other in one batch.
      const parts = partsOf(step.rows, step.split, shards, (rows) => toBatch(rows));
      sharded.addParts(now, parts.map(toBatch));
      twin.add(now, toBatch(parts.flat()));
    } else if (step.kind === "emit") {
      lastEnd = Math.max(lastEnd, Math.ceil(now / slideMs) * slideMs) + step.slides * slideMs;
      for (const n of [shards, step.partitions]) {
        const x = sharded.emitPartitioned(lastEnd, n).map(rowsOf);
        const y = twin.emitPartitioned(lastEnd, n).map(rowsOf);
        expect(x).toEqual(y);
        expect(x).toHaveLength(n);
      }
      expect(rowsOf(sharded.emit(lastEnd))).toEqual(rowsOf(twin.emit(lastEnd)));
    } else if (step.kind === "evict") {
      const horizon = lastEnd + slideMs - windowMs;
      if (horizon >= 0) {
        sharded.evict(horizon);
        twin.evict(horizon);
        now = Math.max(now, horizon + 1);
      }
    } else {
      const fromNative = sharded.snapshot();
      const fromJs = twin.snapshot();
      shards = step.shards;
      sharded = native.createWindowAggregator({ ...options, shards });
      twin = js.createWindowAggregator(options);
      sharded.restore(fromJs);
      twin.restore(fromNative);
    }
    expect(Buffer.from(sharded.snapshot()).equals(Buffer.from(twin.snapshot()))).toBe(true);
  }
}

/** The rows in parts: all in one, cut in two, or placed by key hash into `shards` parts. */
function partsOf<Row extends [unknown, number]>(
  rows: Row[],
  split: "none" | "cut" | "hash",
  shards: number,
  toBatch: (rows: Row[]) => Groups,
): Row[][] {
  if (split === "none") return [rows];
  if (split === "cut") return [rows.slice(0, rows.length >> 1), rows.slice(rows.length >> 1)];
  const { keys } = toBatch(rows);
  const place =
    keys instanceof BigInt64Array
      ? js.hashPartitionI64(keys, shards)
      : js.hashPartitionUtf8(keys, shards);
  return Array.from({ length: shards }, (_, p) => rows.filter((_, row) => place[row] === p));
}

const op = fc.constantFrom<AggregateOp>("sum", "count", "min", "max", "mean");
const shardCount = fc.integer({ min: 1, max: 4 });

describe("sharded window aggregator (native shards vs the TypeScript twin)", () => {
  it("gives the twin's rows, order and snapshot bytes for UTF-8 keys", () => {
    const key = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((n) => `w${n}`),
      fc.constantFrom("", "é", "日本語", "a\u0000b", "long key over sixteen bytes"),
    );
    fc.assert(
      fc.property(op, shardCount, stepsOf(key), (windowOp, shards, steps) => {
        runBoth("utf8", windowOp, shards, steps, (rows) => ({
          keys: keyColumnFromStrings(rows.map(([k]) => k)),
          values: Float64Array.from(rows, ([, v]) => v),
        }));
      }),
      { numRuns: 120 },
    );
  });

  it("gives the twin's rows, order and snapshot bytes for 64-bit keys", () => {
    const key = fc.oneof(
      fc.bigInt({ min: -20n, max: 20n }),
      fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n),
    );
    fc.assert(
      fc.property(op, shardCount, stepsOf(key), (windowOp, shards, steps) => {
        runBoth("i64", windowOp, shards, steps, (rows) => ({
          keys: BigInt64Array.from(rows, ([k]) => k),
          values: Float64Array.from(rows, ([, v]) => v),
        }));
      }),
      { numRuns: 120 },
    );
  });

  it("agrees on batches large enough for the native shards to run on threads", () => {
    // 8000 rows per batch (threads start at 4096), keys drifting so that old ones leave.
    const options = { op: "sum", windowMs: 3000, slideMs: 1000, keyKind: "utf8" } as const;
    const sharded = native.createWindowAggregator({ ...options, shards: 2 });
    const twin = js.createWindowAggregator(options);
    for (let second = 1; second <= 5; second++) {
      const rows = Array.from({ length: 8000 }, (_, i): [string, number] => [
        `k${(i * 7919 + second * 3001) % 12_000}`,
        (i % 13) - 6.75,
      ]);
      const toBatch = (part: [string, number][]) => ({
        keys: keyColumnFromStrings(part.map(([k]) => k)),
        values: Float64Array.from(part, ([, v]) => v),
      });
      // As a shuffle hands them over: two partitions placed by hash, one per shard and thread.
      const parts = partsOf(rows, "hash", 2, toBatch);
      sharded.addParts(second * 1000, parts.map(toBatch));
      twin.add(second * 1000, toBatch(parts.flat()));
      const end = second * 1000;
      expect(sharded.emitPartitioned(end, 2).map(rowsOf)).toEqual(
        twin.emitPartitioned(end, 2).map(rowsOf),
      );
      expect(rowsOf(sharded.emit(end))).toEqual(rowsOf(twin.emit(end)));
      if (second >= 3) {
        sharded.evict(end - 2000);
        twin.evict(end - 2000);
      }
      expect(Buffer.from(sharded.snapshot()).equals(Buffer.from(twin.snapshot()))).toBe(true);
    }
  });

  it("rejects a shard count or partition count it cannot use, on both engines", () => {
    const options = { op: "sum", windowMs: 2000, slideMs: 1000, keyKind: "i64" } as const;
    for (const kernels of [native, js]) {
      for (const shards of [0, 1.5, 5000]) {
        expect(() => kernels.createWindowAggregator({ ...options, shards })).toThrowError(
          expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
        );
      }
      const window = kernels.createWindowAggregator({ ...options, shards: 2 });
      expect(() => window.emitPartitioned(1000, 0)).toThrowError(
        expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
      );
    }
  });
});
