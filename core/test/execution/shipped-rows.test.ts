import { describe, expect, it } from "vitest";
import type { ShuffleBlock } from "../../src/dstream/shuffle-operator.js";
import { pairsOfShipped, shippedPairs } from "../../src/execution/shipped-pairs.js";
import {
  forEachShippedString,
  recordsOfStrings,
  shippedStrings,
} from "../../src/execution/shipped-strings.js";
import { decodeBucket, encodeBucket } from "../../src/execution/shuffle-buckets.js";

// Strings of every kind a record may hold: empty, long (sliced, not copied, when read back),
// two-byte, astral and a lone surrogate (kept: no UTF-8 on the way).
const strings = Array.from(
  { length: 200 },
  (_, i) => ["", "a", "word ".repeat(i % 9), "é ü", "🙂x", "\ud800", `k${i}`][i % 7] as string,
);

describe("strings shipped as one string", () => {
  it("gives back every record, in order", () => {
    const shipped = shippedStrings(strings);
    expect(shipped).toBeDefined();
    expect(recordsOfStrings(shipped as NonNullable<typeof shipped>)).toEqual(strings);
    const visited: string[] = [];
    forEachShippedString(shipped as NonNullable<typeof shipped>, (record) => {
      visited.push(record);
    });
    expect(visited).toEqual(strings);
  });

  it("leaves partitions with a record that is not a string, or too few records, as they are", () => {
    expect(shippedStrings([...strings, 1])).toBeUndefined();
    expect(shippedStrings([...strings.slice(0, 100), null, ...strings.slice(100)])).toBeUndefined();
    expect(shippedStrings(strings.slice(0, 10))).toBeUndefined();
  });
});

describe("[string, number] rows shipped as one string and two arrays", () => {
  const rows: [string, number][] = strings.map((key, i) => [
    key,
    [0, -0, 1.5, Number.NaN, -Infinity, 2 ** 53 + 2][i % 6] as number,
  ]);

  it("gives back every row, keys and numbers (-0 and NaN included), in order", () => {
    const shipped = shippedPairs(rows);
    expect(shipped).toBeDefined();
    const back = pairsOfShipped(shipped as NonNullable<typeof shipped>);
    expect(back).toEqual(rows);
    expect(back.map(([, v]) => Object.is(v, -0))).toEqual(rows.map(([, v]) => Object.is(v, -0)));
  });

  it("leaves rows with another key or value as they are", () => {
    expect(shippedPairs([...rows, [1, 1]])).toBeUndefined();
    expect(shippedPairs([...rows, ["a", "1"]])).toBeUndefined();
    expect(shippedPairs([...rows, ["a", 1n]])).toBeUndefined();
  });

  it("crosses a shuffle bucket only for combined rows: a user's raw rows keep what they carry", () => {
    const combined: ShuffleBlock = { kind: "rows", rows, partial: true };
    const bucket = encodeBucket(combined);
    expect(bucket.format).toBe("string-number");
    const back = decodeBucket(bucket);
    expect(back.kind === "rows" && { rows: back.rows, partial: back.partial }).toEqual({
      rows,
      partial: true,
    });
    // A row of the user's own, with a property of its own, as groupByKey moves it.
    const own = Object.assign(["a", 1], { tag: "kept" }) as unknown as [string, number];
    const raw: ShuffleBlock = { kind: "rows", rows: [own, ...rows], partial: false };
    const rawBucket = encodeBucket(raw);
    expect(rawBucket.format).toBe("v8");
    const decoded = decodeBucket(rawBucket);
    expect(decoded.kind === "rows" && (decoded.rows[0] as unknown as { tag: string }).tag).toBe(
      "kept",
    );
  });
});
