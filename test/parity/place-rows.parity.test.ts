import fc from "fast-check";
import {
  JsKernels,
  type Kernels,
  type KeyColumn,
  keyColumnFromStrings,
  NativeKernels,
  type Utf8Groups,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "../../core/test/kernels/native-binding.js";
import { rowsOf, utf8Key } from "./arbitraries.js";
import { expectSameColumn, expectSameF64 } from "./compare.js";

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

/** The reference: hash partitioning, a stable shuffle, then the rows gathered partition by partition. */
function reference(
  kernels: Kernels,
  keys: KeyColumn,
  values: Float64Array,
  n: number,
): Utf8Groups[] {
  const ids = kernels.hashPartitionUtf8(keys, n);
  const { permutation, bounds } = kernels.shuffle(ids, n);
  return Array.from({ length: n }, (_, p) => {
    const rows = Array.from(permutation.subarray(bounds[p], bounds[p + 1]));
    const parts = rows.map((row) => keys.keys.subarray(keys.offsets[row], keys.offsets[row + 1]));
    const offsets = new Uint32Array(parts.length + 1);
    const blob = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    parts.forEach((part, i) => {
      blob.set(part, offsets[i] as number);
      offsets[i + 1] = (offsets[i] as number) + part.length;
    });
    const placed = values.length === 0 ? [] : rows.map((row) => values[row] as number);
    return { keys: { keys: blob, offsets }, values: Float64Array.from(placed) };
  });
}

function expectSameParts(actual: readonly Utf8Groups[], expected: readonly Utf8Groups[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((part, p) => {
    const other = expected[p] as Utf8Groups;
    expectSameColumn(part.keys, other.keys);
    expectSameF64(part.values, other.values);
  });
}

describe("placeRowsUtf8: keys and values placed by hash in one call (native vs TypeScript)", () => {
  it("equals hash partitioning, a stable shuffle and gathering, values or none", () => {
    fc.assert(
      fc.property(
        rowsOf(utf8Key),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (rows, n, bare) => {
          const keys = keyColumnFromStrings(rows.map(([key]) => key));
          const values = bare ? new Float64Array(0) : Float64Array.from(rows, ([, value]) => value);
          const expected = reference(js, keys, values, n);
          expectSameParts(js.placeRowsUtf8(keys, values, n), expected);
          expectSameParts(native.placeRowsUtf8(keys, values, n), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a value count that is neither one per key nor none, and zero partitions, alike", () => {
    const keys = keyColumnFromStrings(["a", "b"]);
    for (const kernels of [js, native]) {
      expect(() => kernels.placeRowsUtf8(keys, Float64Array.of(1), 2)).toThrow(
        expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
      );
      expect(() => kernels.placeRowsUtf8(keys, Float64Array.of(1, 2), 0)).toThrow(
        expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
      );
      expect(() =>
        kernels.placeRowsUtf8(
          { keys: keys.keys, offsets: Uint32Array.of(0, 5) },
          Float64Array.of(1),
          1,
        ),
      ).toThrow(expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_OFFSETS" }));
    }
  });
});
