import fc from "fast-check";
import { type AggregateOp, JsKernels, keyColumnFromStrings, NativeKernels } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "../../core/test/kernels/native-binding.js";
import { aggregateOp, i64Key, largeBatch, rowsOf, utf8Key } from "./arbitraries.js";
import { expectSameColumn, expectSameF64 } from "./compare.js";

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

describe("reduceByKey parity (native vs TypeScript)", () => {
  it("gives identical groups for UTF-8 keys", () => {
    fc.assert(
      fc.property(rowsOf(utf8Key), aggregateOp, (rows, op: AggregateOp) => {
        const keys = keyColumnFromStrings(rows.map(([key]) => key));
        const values = Float64Array.from(rows, ([, value]) => value);
        const a = native.reduceByKeyUtf8(keys, values, op);
        const b = js.reduceByKeyUtf8(keys, values, op);
        expectSameColumn(a.keys, b.keys);
        expectSameF64(a.values, b.values);
      }),
      { numRuns: 300 },
    );
  });

  it("gives identical groups for 64-bit keys", () => {
    fc.assert(
      fc.property(rowsOf(i64Key), aggregateOp, (rows, op: AggregateOp) => {
        const keys = BigInt64Array.from(rows, ([key]) => key);
        const values = Float64Array.from(rows, ([, value]) => value);
        const a = native.reduceByKeyI64(keys, values, op);
        const b = js.reduceByKeyI64(keys, values, op);
        expect(Array.from(a.keys)).toEqual(Array.from(b.keys));
        expectSameF64(a.values, b.values);
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with a Map oracle on first-seen order and sums", () => {
    fc.assert(
      fc.property(rowsOf(utf8Key), (rows) => {
        const oracle = new Map<string, number>();
        for (const [key, value] of rows) oracle.set(key, (oracle.get(key) ?? 0) + value);
        const keys = keyColumnFromStrings(rows.map(([key]) => key));
        const result = js.reduceByKeyUtf8(
          keys,
          Float64Array.from(rows, ([, v]) => v),
          "sum",
        );
        expectSameColumn(result.keys, keyColumnFromStrings([...oracle.keys()]));
        expectSameF64(result.values, Float64Array.from(oracle.values()));
      }),
      { numRuns: 200 },
    );
  });

  it.each([1, 1000, 100_000])("agrees on a large batch with %i distinct keys", (distinct) => {
    const { keys, values } = largeBatch(200_000, distinct, distinct);
    const column = keyColumnFromStrings(keys);
    for (const op of ["sum", "mean"] as const) {
      const a = native.reduceByKeyUtf8(column, values, op);
      const b = js.reduceByKeyUtf8(column, values, op);
      expectSameColumn(a.keys, b.keys);
      expectSameF64(a.values, b.values);
      expect(a.keys.offsets.length - 1).toBeLessThanOrEqual(distinct);
    }
    const ints = BigInt64Array.from(keys, (key) =>
      BigInt(key.length * 1_000_003 + key.charCodeAt(4)),
    );
    expect(Array.from(native.reduceByKeyI64(ints, values, "max").keys)).toEqual(
      Array.from(js.reduceByKeyI64(ints, values, "max").keys),
    );
  });

  it("gives the same results through the async variants", async () => {
    const keys = keyColumnFromStrings(["a", "b", "a", "", "é"]);
    const values = Float64Array.of(1, -0, 2, Number.NaN, 3);
    const a = await native.reduceByKeyUtf8Async(keys, values, "sum");
    const b = await js.reduceByKeyUtf8Async(keys, values, "sum");
    expectSameColumn(a.keys, b.keys);
    expectSameF64(a.values, b.values);
    const ints = BigInt64Array.of(3n, -3n, 3n);
    const c = await native.reduceByKeyI64Async(ints, Float64Array.of(1, 2, 3), "count");
    expect(Array.from(c.keys)).toEqual([3n, -3n]);
    expectSameF64(c.values, Float64Array.of(2, 1));
  });
});

describe("shuffle parity", () => {
  it("gives the same stable permutation and bounds", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 500 }),
            ),
          ),
        ([n, ids]) => {
          const partitionIds = Uint32Array.from(ids);
          const a = native.shuffle(partitionIds, n);
          const b = js.shuffle(partitionIds, n);
          expect(Array.from(a.permutation)).toEqual(Array.from(b.permutation));
          expect(Array.from(a.bounds)).toEqual(Array.from(b.bounds));
        },
      ),
    );
  });
});
