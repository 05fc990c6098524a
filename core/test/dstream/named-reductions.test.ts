import fc from "fast-check";
import type { Batch } from "sluice";
import type { Kernels } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import {
  type NamedReduction,
  PAIRS_JS_BELOW_ROWS,
  reduceBatchNamed,
  reduceByKeyNamed,
} from "../../src/dstream/named-reductions.js";
import { countingKernels, ENGINES, exactPartitions } from "./engines.js";

// reduceByKey("sum" | "count" | "min" | "max") on the main thread goes through the kernels
// when the keys allow it; reduceByKeyNamed (row by row, KeyedMap) is the reference. They must
// agree on everything: partitions, first-seen order in each, and every bit of every value.

const OPS: readonly NamedReduction[] = ["sum", "count", "min", "max"];

const stringKey = fc.oneof(
  fc.constantFrom(
    "",
    "a",
    "b",
    "é",
    "e\u0301",
    "日本",
    "🙂",
    " ",
    "\u0000",
    "longer-key-0123456789",
  ),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.integer({ min: 0, max: 20 }).map((n) => `k${n}`),
);
const numberKey = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32, -(2 ** 32), -1),
);
const bigintKey = fc.oneof(
  fc.bigInt({ min: -5n, max: 40n }),
  fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n),
);
const mixedKey = fc.oneof(
  stringKey,
  numberKey,
  fc.constantFrom(-0, 1.5, Number.NaN, true, null, "\uD800", ["a", 1], { id: 1 }, 2n ** 70n),
);
const value = fc.oneof(
  fc.double(),
  fc.integer({ min: -100, max: 100 }),
  fc.constantFrom(Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308),
);

/** A batch of 0–150 pairs in 1–3 partitions. */
function batchOf(key: fc.Arbitrary<unknown>): fc.Arbitrary<Batch<[unknown, number]>> {
  return fc
    .array(fc.array(fc.tuple(key, value), { maxLength: 50, size: "max" }), {
      minLength: 1,
      maxLength: 3,
    })
    .map((partitions) => ({ time: 1000, partitions }));
}

function sizedBatch(rows: number, keyOf: (row: number) => unknown): Batch<[unknown, number]> {
  const pairs = Array.from({ length: rows }, (_, row): [unknown, number] => [
    keyOf(row),
    row * 0.1,
  ]);
  return { time: 1000, partitions: [pairs.slice(0, rows >> 1), pairs.slice(rows >> 1)] };
}

describe.each(ENGINES)("reduceByKey with a named reduction (%s kernels)", (_name, make) => {
  const kernels: Kernels = make();

  for (const [family, key] of [
    ["string", stringKey],
    ["number", numberKey],
    ["bigint", bigintKey],
    ["mixed", mixedKey],
  ] as const) {
    it(`equals the row-by-row reference for ${family} keys`, () => {
      fc.assert(
        fc.property(
          batchOf(key),
          fc.constantFrom(...OPS),
          fc.constantFrom(1, 3),
          (batch, op, n) => {
            const expected = reduceByKeyNamed(batch, op, n);
            // Every batch through the kernels, whatever its size (the threshold is tested below).
            const actual = reduceBatchNamed(batch, op, n, kernels, { jsBelowRows: 0 });
            expect(exactPartitions(actual.partitions)).toEqual(exactPartitions(expected));
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("takes the kernels from the measured threshold on, per engine and key family", () => {
    const thresholds = PAIRS_JS_BELOW_ROWS[kernels.kind];
    for (const [family, keyOf] of [
      ["utf8", (row: number) => `w${row % 7}`],
      ["number", (row: number) => row % 7],
      ["bigint", (row: number) => BigInt(row % 7)],
    ] as const) {
      const threshold = thresholds[family];
      const sizes = Number.isFinite(threshold) ? [threshold - 1, threshold, threshold + 1] : [5000];
      for (const rows of sizes) {
        const batch = sizedBatch(rows, keyOf);
        const counted = countingKernels(kernels);
        const actual = reduceBatchNamed(batch, "sum", 2, counted.kernels);
        const reduceCalls =
          (counted.calls.get("reduceByKeyUtf8") ?? 0) + (counted.calls.get("reduceByKeyI64") ?? 0);
        expect(reduceCalls, `${family}, ${rows} rows`).toBe(rows >= threshold ? 1 : 0);
        expect(exactPartitions(actual.partitions)).toEqual(
          exactPartitions(reduceByKeyNamed(batch, "sum", 2)),
        );
      }
    }
  });

  it("keeps string results as columns until they are read", () => {
    const batch = sizedBatch(100, (row) => `w${row % 9}`);
    const result = reduceBatchNamed(batch, "count", 3, kernels, { jsBelowRows: 0 });
    expect(result).toBeInstanceOf(ColumnarBatch);
    expect((result as ColumnarBatch<unknown>).isMaterialised).toBe(false);
    expect(result.partitions.flat()).toHaveLength(9);
    expect((result as ColumnarBatch<unknown>).isMaterialised).toBe(true);
  });

  it("falls back to JavaScript for mixed keys, -0, lone surrogates and objects", () => {
    const fallbacks: ReadonlyArray<(row: number) => unknown> = [
      (row) => (row % 2 === 0 ? `k${row % 5}` : row % 5),
      (row) => (row === 3 ? -0 : row % 5),
      (row) => (row === 3 ? "\uD800" : `k${row % 5}`),
      (row) => [row % 3, "x"],
      (row) => (row % 2 === 0 ? BigInt(row % 4) : row % 4),
    ];
    for (const keyOf of fallbacks) {
      const batch = sizedBatch(100, keyOf);
      const counted = countingKernels(kernels);
      const actual = reduceBatchNamed(batch, "sum", 3, counted.kernels, { jsBelowRows: 0 });
      expect(counted.calls.size).toBe(0);
      expect(exactPartitions(actual.partitions)).toEqual(
        exactPartitions(reduceByKeyNamed(batch, "sum", 3)),
      );
    }
    // The reference keeps the first representation of the key 0: here -0.
    const zero = reduceBatchNamed(
      sizedBatch(100, (row) => (row === 0 ? -0 : row % 3)),
      "count",
      1,
      kernels,
      { jsBelowRows: 0 },
    );
    expect(Object.is(zero.partitions[0]?.[0]?.[0], -0)).toBe(true);
  });

  it("rejects a value that is not a number as the reference does, naming the key", () => {
    const batch = sizedBatch(100, (row) => `k${row}`);
    (batch.partitions[1] as [unknown, unknown][])[10] = ["bad", "7"];
    expect(() => reduceBatchNamed(batch, "sum", 2, kernels, { jsBelowRows: 0 })).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringMatching(/key bad is string/),
      }),
    );
    // count reads no values
    expect(reduceBatchNamed(batch, "count", 2, kernels).partitions.flat()).toHaveLength(100);
  });
});
