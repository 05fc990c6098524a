import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CombinerTable } from "../../src/dstream/combiner-table.js";
import { KeySlots } from "../../src/dstream/key-slots.js";
import { placeRows } from "../../src/dstream/shuffle.js";
import { KeyedMap } from "../../src/util/keyed-map.js";

// Keys of every kind the shuffles see: strings (their own lookup), numbers (-0 and 0 alike),
// booleans, null, undefined, and arrays/objects compared by structure.
const keyArb = fc.oneof(
  fc.constantFrom("a", "b", "c", "", "é", "0"),
  fc.constantFrom(0, -0, 1, 2.5, Number.NaN),
  fc.constantFrom(true, null, undefined),
  fc.constantFrom(["a", 1], ["a", 1], { x: 1 }, { x: 1 }, [0]),
);
const rowsArb = fc.array(fc.tuple(keyArb, fc.integer({ min: -5, max: 5 })), { maxLength: 60 });

/** The combiners as a `KeyedMap` of combiners would give them (the table's reference). */
function reference(rows: ReadonlyArray<readonly [unknown, number]>): [unknown, number[]][] {
  const map = new KeyedMap<unknown, number[]>();
  for (const [key, value] of rows) {
    const current = map.get(key);
    map.set(key, current === undefined ? [value] : [...current, value]);
  }
  return [...map];
}

describe("CombinerTable", () => {
  it("combines like a KeyedMap of combiners: same keys, first-seen order and first key kept", () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const table = new CombinerTable<unknown, number[]>();
        for (const [key, value] of rows) {
          table.merge(
            key,
            value,
            (v) => [v],
            (c, v) => [...c, v],
          );
        }
        const got = table.rows();
        const want = reference(rows);
        expect(got).toEqual(want);
        // The key given back is the first one seen (Object.is: -0 stays -0).
        expect(got.map(([key], i) => Object.is(key, want[i]?.[0]))).not.toContain(false);
        for (const n of [1, 2, 3]) expect(table.placedRows(n)).toEqual(placeRows(got, n));
      }),
    );
  });

  it("merges combiners into combiners, an undefined combiner included", () => {
    const table = new CombinerTable<string, number | undefined>();
    const merge = (a: number | undefined, b: number | undefined) =>
      a === undefined ? b : b === undefined ? a : a + b;
    table.mergeCombiner("a", undefined, merge);
    table.mergeCombiner("b", 2, merge);
    table.mergeCombiner("a", 3, merge);
    table.mergeCombiner("b", undefined, merge);
    expect(table.rows()).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
  });

  it("numbers keys in first-seen order across strings and other keys", () => {
    const slots = new KeySlots<unknown>();
    expect([slots.add("x"), slots.add(7), slots.add(["x"]), slots.add("7")]).toEqual([0, 1, 2, 3]);
    expect([slots.slotOf(7), slots.slotOf(["x"]), slots.slotOf("7"), slots.slotOf("y")]).toEqual([
      1, 2, 3, -1,
    ]);
    expect(slots.size).toBe(4);
    expect(slots.keyAt(2)).toEqual(["x"]);
  });
});
