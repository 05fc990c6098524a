import fc from "fast-check";
import type { Batch } from "sluice";
import { describe, expect, it } from "vitest";
import { cogroup, placeRows } from "../../src/dstream/shuffle.js";
import { mergeWindows, type WindowFunctions } from "../../src/dstream/window-merge.js";

type Row = [string | number, number];

/**
 * Spark's ReducedWindowedDStream merge, written out plainly: cogroup every source, then per key
 * the first value of each source (previous window, old batches, new batches).
 */
function reference(
  sources: ReadonlyArray<Batch<readonly [string | number, number]>>,
  numOld: number,
  numPartitions: number,
  { reduce, inverse, filter }: WindowFunctions<string | number, number>,
): Row[][] {
  return cogroup(sources, numPartitions).map((partition) => {
    const out: Row[] = [];
    for (const [key, groups] of partition) {
      const firsts = (from: number, to: number) =>
        groups.slice(from, to).flatMap((values) => values.slice(0, 1)) as number[];
      const previous = firsts(0, 1);
      const old = firsts(1, 1 + numOld);
      const added = firsts(1 + numOld, groups.length);
      let value: number;
      if (previous.length === 0) {
        if (added.length === 0) throw new Error(`inconsistent ${String(key)}`);
        value = added.reduce(reduce);
      } else {
        value = previous[0] as number;
        if (old.length > 0) value = inverse(value, old.reduce(reduce));
        if (added.length > 0) value = reduce(value, added.reduce(reduce));
      }
      const pair: Row = [key, value];
      if (filter === undefined || filter(pair)) out.push(pair);
    }
    return out;
  });
}

const keyArb = fc.oneof(fc.constantFrom("a", "b", "c", "d", "e"), fc.constantFrom(1, 2, -0));
// Non-integral values and a non-commutative reduce: any change in the order of operations shows.
const rowsArb = fc.array(fc.tuple(keyArb, fc.double({ min: -8, max: 8, noNaN: true })), {
  maxLength: 12,
});
const fns: WindowFunctions<string | number, number> = {
  reduce: (a, b) => a * 0.5 + b,
  inverse: (a, b) => a - b * 0.25,
  filter: ([, value]) => value > -6,
};

const batchOf = (rows: ReadonlyArray<Row>, numPartitions: number): Batch<Row> => ({
  time: 0,
  partitions: placeRows(rows, numPartitions) as Row[][],
});

describe("mergeWindows (reduceByKeyAndWindow with an inverse)", () => {
  it("equals the cogroup of its sources, co-partitioned or not, order and bits included", () => {
    fc.assert(
      fc.property(
        fc.array(rowsArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 3 }),
        (batches, split, numPartitions) => {
          // Every key of the old and new batches in the previous window, so that no key is
          // inconsistent; the previous window is itself placed like a window's output.
          const [first, ...rest] = batches as [Row[], ...Row[][]];
          const known = new Set(rest.flat().map(([key]) => key));
          const previousRows: Row[] = [...first, ...[...known].map((key): Row => [key, 1])];
          const numOld = rest.length === 0 ? 0 : split % (rest.length + 1);
          const placed = [previousRows, ...rest].map((rows) => batchOf(rows, numPartitions));
          const want = reference(placed, numOld, numPartitions, fns);
          expect(mergeWindows(placed, numOld, numPartitions, fns, 9000)).toEqual(want);
          // Sources with another number of partitions (a restored run) are cogrouped first.
          const other = [previousRows, ...rest].map((rows) => batchOf(rows, numPartitions + 1));
          expect(mergeWindows(other, numOld, numPartitions, fns, 9000)).toEqual(
            reference(other, numOld, numPartitions, fns),
          );
        },
      ),
    );
  });

  it("starts from no previous window, and reports a key that left without having been in it", () => {
    const entered = batchOf(
      [
        ["a", 1],
        ["b", 2],
        ["a", 5],
      ],
      2,
    );
    const none: Batch<Row> = { time: 0, partitions: [] };
    expect(mergeWindows([none, entered], 0, 2, fns, 1000)).toEqual(
      reference([none, entered], 0, 2, fns),
    );
    const left = batchOf([["z", 1]], 2);
    expect(() => mergeWindows([none, left, entered], 1, 2, fns, 3000)).toThrow(
      expect.objectContaining({ code: "SLUICE_INCONSISTENT_WINDOW" }),
    );
    expect(() => mergeWindows([none, left, entered], 1, 2, fns, 3000)).toThrow(
      /reduceByKeyAndWindow at 3000 ms: key z left the window/,
    );
  });
});
