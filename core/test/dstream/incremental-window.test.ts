import fc from "fast-check";
import type { Batch } from "sluice";
import { describe, expect, it } from "vitest";
import { IncrementalWindow } from "../../src/dstream/incremental-window.js";
import { placeRows } from "../../src/dstream/shuffle.js";
import { TextPairsBatch } from "../../src/dstream/text-pairs-batch.js";
import { mergeWindows, type WindowFunctions } from "../../src/dstream/window-merge.js";
import { shippedPairs } from "../../src/execution/shipped-pairs.js";

type Key = string | number | [string];
type Row = [Key, number];

// Integer counts with a filter that drops zeros: keys leave the window and come back (in a new
// place at the end), as in a windowed word count.
const fns: WindowFunctions<Key, number> = {
  reduce: (a, b) => a + b,
  inverse: (a, b) => a - b,
  filter: ([, count]) => count !== 0,
};
const keyArb = fc.oneof(
  fc.constantFrom<Key>("a", "b", "c", "d", "e", "f"),
  fc.constantFrom<Key>(1, 2, -0),
  fc.constant<Key>(["o"]),
);
const batchRowsArb = fc.array(fc.tuple(keyArb, fc.integer({ min: 1, max: 3 })), { maxLength: 10 });

const placed = (rows: ReadonlyArray<Row>, numPartitions: number): Batch<Row> => ({
  time: 0,
  partitions: placeRows(rows, numPartitions) as Row[][],
});

/**
 * A sliding window over `batches` (a per-batch reduction each, `width` batches wide, sliding by
 * `slide`) made with `IncrementalWindow` and with `mergeWindows`, window after window.
 */
function slideBoth(batches: Row[][], width: number, slide: number, numPartitions: number) {
  // Per-batch reductions as reduceByKey gives them: one row per key.
  const reduced = batches.map((rows) => {
    const sums = new Map<string, Row>();
    for (const [key, value] of rows) {
      const id = JSON.stringify(key);
      const seen = sums.get(id);
      sums.set(id, [seen?.[0] ?? key, (seen?.[1] ?? 0) + value]);
    }
    return placed([...sums.values()], numPartitions);
  });
  const windows = new IncrementalWindow<Key, number>(numPartitions, fns);
  let incremental: Batch<Row> = { time: 0, partitions: [] };
  let reference: Batch<Row> = { time: 0, partitions: [] };
  const outputs: [unknown, unknown][] = [];
  for (let end = slide; end <= batches.length; end += slide) {
    const old = reduced.slice(Math.max(0, end - slide - width), Math.max(0, end - width));
    const added = reduced.slice(Math.max(end - slide, end - width), end);
    const next = windows.next(incremental, old, added, end);
    incremental = { time: end, partitions: next };
    windows.made(incremental);
    reference = {
      time: end,
      partitions: mergeWindows([reference, ...old, ...added], old.length, numPartitions, fns, end),
    };
    outputs.push([incremental.partitions, reference.partitions]);
  }
  return outputs;
}

describe("IncrementalWindow (reduceByKeyAndWindow with an inverse)", () => {
  it("makes every window as mergeWindows does: keys, order, values", () => {
    fc.assert(
      fc.property(
        fc.array(batchRowsArb, { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (batches, width, slide, numPartitions) => {
          for (const [got, want] of slideBoth(batches, width * slide, slide, numPartitions)) {
            expect(got).toEqual(want);
          }
        },
      ),
    );
  });

  it("starts again from a previous window it did not make (restored), or one placed otherwise", () => {
    const windows = new IncrementalWindow<Key, number>(2, fns);
    const restored = placed(
      [
        ["a", 2],
        ["b", 1],
        [1, 4],
      ],
      2,
    );
    const left = placed([["b", 1]], 2);
    const entered = placed(
      [
        ["c", 5],
        ["a", 1],
      ],
      2,
    );
    expect(windows.next(restored, [left], [entered], 3000)).toEqual(
      mergeWindows([restored, left, entered], 1, 2, fns, 3000),
    );
    // Sources in three partitions where the window has two: cogrouped.
    const other = placed(
      [
        ["a", 2],
        ["b", 1],
      ],
      3,
    );
    expect(windows.next(other, [placed([["b", 1]], 3)], [], 4000)).toEqual(
      mergeWindows([other, placed([["b", 1]], 3)], 1, 2, fns, 4000),
    );
  });

  it("reports a key that left without having been in the window, and recovers after", () => {
    const windows = new IncrementalWindow<Key, number>(1, fns);
    const first = {
      time: 1000,
      partitions: windows.next(placed([], 1), [], [placed([["a", 1]], 1)], 1000),
    };
    windows.made(first);
    expect(() => windows.next(first, [placed([["z", 1]], 1)], [], 2000)).toThrow(
      /reduceByKeyAndWindow at 2000 ms: key z left the window but was not in the previous window/,
    );
    // The failed window left nothing half-made behind: the same step from `first` works.
    expect(windows.next(first, [placed([["a", 1]], 1)], [placed([["b", 2]], 1)], 2000)).toEqual([
      [["b", 2]],
    ]);
  });

  it("takes out what left before what entered is known, with the same window as a whole slide", () => {
    const calls: string[] = [];
    const counted: WindowFunctions<Key, number> = {
      reduce: (a, b) => {
        calls.push(`reduce ${a} ${b}`);
        return a + b;
      },
      inverse: (a, b) => {
        calls.push(`inverse ${a} ${b}`);
        return a - b;
      },
      filter: fns.filter,
    };
    const windows = new IncrementalWindow<Key, number>(2, counted);
    const first = placed(
      [
        ["a", 3],
        ["b", 1],
      ],
      2,
    );
    const left = placed([["a", 1]], 2);
    const slide = windows.leave(first, [left], 2000);
    expect(calls).toEqual(["inverse 3 1"]);
    const entered = placed(
      [
        ["a", 4],
        ["c", 2],
      ],
      2,
    );
    expect(slide.enter([entered])).toEqual(mergeWindows([first, left, entered], 1, 2, fns, 2000));
    expect(calls).toEqual(["inverse 3 1", "reduce 2 4"]);
    expect(() => slide.enter([entered])).toThrow(/already made from this slide/);
  });

  it("a slide that never entered (its new batch failed) leaves nothing half-made behind", () => {
    const windows = new IncrementalWindow<Key, number>(2, fns);
    const first = {
      time: 1000,
      partitions: windows.next(placed([], 2), [], [placed([["a", 2]], 2)], 1000),
    };
    windows.made(first);
    // The batch at 2000 failed after the key's pane was taken out: nothing entered.
    windows.leave(first, [placed([["a", 2]], 2)], 2000);
    // Tried again from the same previous window, the slide starts from that window's rows.
    const left = placed([["a", 1]], 2);
    const entered = placed([["b", 1]], 2);
    expect(windows.next(first, [left], [entered], 2000)).toEqual(
      mergeWindows([first, left, entered], 1, 2, fns, 2000),
    );
  });

  it("keys that leave, come back and move when the partition compacts stay as mergeWindows has them", () => {
    // Thousands of keys, most in one batch only: the window drops them (zero counts), compacts
    // its slots, and the batches that entered before the compaction leave after it.
    const batches: Row[][] = Array.from({ length: 24 }, (_, b) =>
      Array.from({ length: 600 }, (_, i): Row => [`k${(b * 397 + i * 7) % 5000}`, 1 + (i % 3)]),
    );
    for (const [got, want] of slideBoth(batches, 4, 1, 2)) expect(got).toEqual(want);
    for (const [got, want] of slideBoth(batches, 6, 2, 3)) expect(got).toEqual(want);
  });

  it("a key dropped while its panes are still in the window, then back, is found where it is now", () => {
    // a: +1, then -1 (the window's value is 0: dropped), then +2 (back, in a new place); when the
    // +1 leaves it is taken out of the 2.
    const batches: Row[][] = [[["a", 1]], [["a", -1]], [["a", 2]], [], []];
    const outputs = slideBoth(batches, 3, 1, 1);
    for (const [got, want] of outputs) expect(got).toEqual(want);
    expect(outputs.map(([got]) => got)).toEqual([
      [[["a", 1]]],
      [[]],
      [[["a", 2]]],
      [[["a", 1]]],
      [[["a", 2]]],
    ]);
  });
});

describe("IncrementalWindow over per-batch reductions that came back as text pairs", () => {
  const wordArb = fc.constantFrom("a", "bb", "é", "🙂", "", "dd", "e e");
  const wordRowsArb = fc.array(fc.tuple(wordArb, fc.integer({ min: 1, max: 9 })), {
    maxLength: 12,
  });
  const stringFns: WindowFunctions<string, number> = {
    reduce: (a, b) => a + b,
    inverse: (a, b) => a - b,
    filter: ([, value]) => value !== 0,
  };

  it("makes the same windows as from rows, and never makes their rows", () => {
    fc.assert(
      fc.property(
        fc.array(wordRowsArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (batches, width, numPartitions) => {
          // One row per key per batch, placed as a reduce side places them.
          const reducedRows = batches.map((rows) => {
            const sums = new Map<string, number>();
            for (const [key, value] of rows) sums.set(key, (sums.get(key) ?? 0) + value);
            return placeRows([...sums], numPartitions) as [string, number][][];
          });
          const asPairs = reducedRows.map(
            (partitions) =>
              new TextPairsBatch(
                0,
                partitions.map(
                  (rows) => shippedPairs(rows) as NonNullable<ReturnType<typeof shippedPairs>>,
                ),
              ),
          );
          const slide = (panes: ReadonlyArray<Batch<[string, number]>>) => {
            const windows = new IncrementalWindow<string, number>(numPartitions, stringFns);
            let previous: Batch<[string, number]> = { time: 0, partitions: [] };
            const out: [string, number][][][] = [];
            for (let end = 1; end <= panes.length; end++) {
              const old = panes.slice(Math.max(0, end - 1 - width), Math.max(0, end - width));
              const added = panes.slice(end - 1, end);
              previous = { time: end, partitions: windows.next(previous, old, added, end) };
              windows.made(previous);
              out.push(previous.partitions as [string, number][][]);
            }
            return out;
          };
          const rowBatches = reducedRows.map((partitions) => ({ time: 0, partitions }));
          expect(slide(asPairs)).toEqual(slide(rowBatches));
          expect(asPairs.some((batch) => batch.isMaterialised)).toBe(false);
        },
      ),
    );
  });
});
