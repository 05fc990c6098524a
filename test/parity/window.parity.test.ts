import fc from "fast-check";
import {
  type AggregateOp,
  JsKernels,
  type Kernels,
  keyColumnFromStrings,
  NativeKernels,
  type WindowAggregator,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "../../core/test/kernels/native-binding.js";
import { aggregateOp, awkwardDouble, i64Key, largeBatch, utf8Key } from "./arbitraries.js";
import { expectSameColumn, expectSameF64 } from "./compare.js";

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

/** One step of a window's life, as a streaming operator would drive it. */
type Step<K> =
  | { kind: "add"; panes: number; rows: Array<[K, number]> }
  | { kind: "emit"; slides: number }
  | { kind: "advance"; slides: number }
  | { kind: "evict" }
  | { kind: "swap" };

function stepsOf<K>(key: fc.Arbitrary<K>) {
  return fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant("add" as const),
          panes: fc.integer({ min: 0, max: 2 }),
          rows: fc.array(fc.tuple(key, awkwardDouble), { maxLength: 25 }),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("emit" as const),
          slides: fc.integer({ min: 0, max: 2 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("advance" as const),
          slides: fc.integer({ min: 0, max: 2 }),
        }),
      },
      { weight: 2, arbitrary: fc.constant({ kind: "evict" as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: "swap" as const }) },
    ),
    { maxLength: 40 },
  );
}

const shape = fc.record({
  panesPerSlide: fc.integer({ min: 1, max: 3 }),
  slidesPerWindow: fc.integer({ min: 1, max: 4 }),
});

/**
 * Drives a native and a TypeScript aggregator through the same steps. After every step the
 * snapshots are byte-identical; on "swap" each restores the other's snapshot, so a snapshot
 * written by one engine is continued by the other.
 */
function runBoth<K extends "utf8" | "i64", Key>(
  keyKind: K,
  op: AggregateOp,
  { panesPerSlide, slidesPerWindow }: { panesPerSlide: number; slidesPerWindow: number },
  steps: Step<Key>[],
  toBatch: (rows: Array<[Key, number]>) => Parameters<WindowAggregator<K>["add"]>[1],
): void {
  const paneMs = 100;
  const slideMs = paneMs * panesPerSlide;
  const windowMs = slideMs * slidesPerWindow;
  const options = { op, windowMs, slideMs, keyKind };
  let a = native.createWindowAggregator(options);
  let b = js.createWindowAggregator(options);
  let now = 0;
  let lastEnd = 0;
  for (const step of steps) {
    if (step.kind === "add") {
      now += step.panes * paneMs;
      const batch = toBatch(step.rows);
      a.add(now, batch);
      b.add(now, batch);
    } else if (step.kind === "emit") {
      lastEnd = Math.max(lastEnd, Math.ceil(now / slideMs) * slideMs) + step.slides * slideMs;
      const x = a.emit(lastEnd);
      const y = b.emit(lastEnd);
      if (keyKind === "utf8") {
        expectSameColumn(
          x.keys as { keys: Uint8Array; offsets: Uint32Array },
          y.keys as { keys: Uint8Array; offsets: Uint32Array },
        );
      } else {
        expect(Array.from(x.keys as BigInt64Array)).toEqual(Array.from(y.keys as BigInt64Array));
      }
      expectSameF64(x.values, y.values);
    } else if (step.kind === "advance") {
      lastEnd = Math.max(lastEnd, Math.ceil(now / slideMs) * slideMs) + step.slides * slideMs;
      a.advance(lastEnd);
      b.advance(lastEnd);
    } else if (step.kind === "evict") {
      const horizon = lastEnd + slideMs - windowMs;
      if (horizon >= 0) {
        a.evict(horizon);
        b.evict(horizon);
        now = Math.max(now, horizon + 1);
      }
    } else {
      const fromNative = a.snapshot();
      const fromJs = b.snapshot();
      a = native.createWindowAggregator(options);
      b = js.createWindowAggregator(options);
      a.restore(fromJs);
      b.restore(fromNative);
    }
    expect(Buffer.from(a.snapshot()).equals(Buffer.from(b.snapshot()))).toBe(true);
  }
}

describe("window aggregator parity (native vs TypeScript)", () => {
  it("gives identical windows and snapshot bytes for UTF-8 keys", () => {
    fc.assert(
      fc.property(aggregateOp, shape, stepsOf(utf8Key), (op, windowShape, steps) => {
        runBoth("utf8", op, windowShape, steps, (rows) => ({
          keys: keyColumnFromStrings(rows.map(([key]) => key)),
          values: Float64Array.from(rows, ([, value]) => value),
        }));
      }),
      { numRuns: 150 },
    );
  });

  it("gives identical windows and snapshot bytes for 64-bit keys", () => {
    fc.assert(
      fc.property(aggregateOp, shape, stepsOf(i64Key), (op, windowShape, steps) => {
        runBoth("i64", op, windowShape, steps, (rows) => ({
          keys: BigInt64Array.from(rows, ([key]) => key),
          values: Float64Array.from(rows, ([, value]) => value),
        }));
      }),
      { numRuns: 150 },
    );
  });

  it("agrees over many keys, evictions and a dictionary compaction", () => {
    for (const op of ["sum", "max"] as const) {
      const options = { op, windowMs: 3000, slideMs: 1000, keyKind: "utf8" } as const;
      const engines: Array<[Kernels, WindowAggregator<"utf8">]> = [native, js].map((k) => [
        k,
        k.createWindowAggregator(options),
      ]);
      for (let second = 1; second <= 8; second++) {
        // Each second brings mostly new keys, so old ones die and the dictionaries compact.
        const { keys, values } = largeBatch(20_000, 100_000, second);
        const batch = { keys: keyColumnFromStrings(keys), values };
        const outputs = engines.map(([, window]) => {
          window.add(second * 1000, batch);
          const out = window.emit(second * 1000);
          if (second >= 3) window.evict((second - 2) * 1000);
          return { out, snapshot: window.snapshot() };
        });
        const [x, y] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
        expectSameColumn(x.out.keys, y.out.keys);
        expectSameF64(x.out.values, y.out.values);
        expect(Buffer.from(x.snapshot).equals(Buffer.from(y.snapshot))).toBe(true);
      }
    }
  });
});
