import {
  decodeKeyColumn,
  JsKernels,
  type Kernels,
  keyColumnFromBuffers,
  keyColumnFromStrings,
  NativeKernels,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

const engines: ReadonlyArray<[string, () => Kernels]> = [
  ["native", () => new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 })],
  ["js", () => new JsKernels()],
];

describe.each(engines)("reduceByKey and shuffle (%s kernels)", (_name, make) => {
  const kernels = make();
  const words = keyColumnFromStrings(["to", "be", "or", "not", "to", "be", ""]);
  const ones = new Float64Array(7).fill(1);

  it("sums per key in first-seen order", () => {
    const { keys, values } = kernels.reduceByKeyUtf8(
      words,
      Float64Array.of(1, 2, 3, 4, 5, 6, 7),
      "sum",
    );
    expect(decodeKeyColumn(keys)).toEqual(["to", "be", "or", "not", ""]);
    expect(Array.from(values)).toEqual([6, 8, 3, 4, 7]);
  });

  it("counts without values and applies min, max and mean", () => {
    expect(Array.from(kernels.reduceByKeyUtf8(words, new Float64Array(0), "count").values)).toEqual(
      [2, 2, 1, 1, 1],
    );
    const values = Float64Array.of(5, -1, 0, 2, 1, 3, 9);
    expect(Array.from(kernels.reduceByKeyUtf8(words, values, "min").values)).toEqual([
      1, -1, 0, 2, 9,
    ]);
    expect(Array.from(kernels.reduceByKeyUtf8(words, values, "max").values)).toEqual([
      5, 3, 0, 2, 9,
    ]);
    expect(Array.from(kernels.reduceByKeyUtf8(words, values, "mean").values)).toEqual([
      3, 1, 0, 2, 9,
    ]);
  });

  it("follows the NaN and signed-zero rules", () => {
    const keys = BigInt64Array.of(1n, 1n, 2n, 2n);
    const values = Float64Array.of(-0, -0, Number.NaN, 1);
    const sum = kernels.reduceByKeyI64(keys, values, "sum").values;
    expect(Object.is(sum[0], 0)).toBe(true);
    expect(sum[1]).toBeNaN();
    const min = kernels.reduceByKeyI64(keys, values, "min").values;
    expect(Object.is(min[0], -0)).toBe(true);
    expect(min[1]).toBeNaN();
    const max = kernels.reduceByKeyI64(BigInt64Array.of(5n, 5n), Float64Array.of(-0, 0), "max");
    expect(Object.is(max.values[0], 0)).toBe(true);
  });

  it("keeps 64-bit keys exact", () => {
    const keys = BigInt64Array.of(2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n - 1n);
    const { keys: groups, values } = kernels.reduceByKeyI64(keys, ones.subarray(0, 3), "sum");
    expect(Array.from(groups)).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
    expect(Array.from(values)).toEqual([2, 1]);
  });

  it("handles empty batches", () => {
    const empty = kernels.reduceByKeyUtf8(keyColumnFromStrings([]), new Float64Array(0), "max");
    expect(empty.keys.offsets).toEqual(Uint32Array.of(0));
    expect(empty.values.length).toBe(0);
    expect(
      kernels.reduceByKeyI64(new BigInt64Array(0), new Float64Array(0), "sum").keys.length,
    ).toBe(0);
  });

  it("rejects mismatched values and unknown ops with stable codes", () => {
    expect(() => kernels.reduceByKeyUtf8(words, new Float64Array(3), "sum")).toThrowError(
      expect.objectContaining({
        code: "SLUICE_NATIVE_INVALID_ARGUMENT",
        message: expect.stringContaining("values"),
      }),
    );
    expect(() =>
      kernels.reduceByKeyI64(new BigInt64Array(1), new Float64Array(1), "avg" as "sum"),
    ).toThrowError(
      expect.objectContaining({
        code: "SLUICE_NATIVE_INVALID_ARGUMENT",
        message: expect.stringContaining("op"),
      }),
    );
  });

  it("rejects a bad batch from the async variant as a rejected promise", async () => {
    const bad = { keys: new Uint8Array(1), offsets: Uint32Array.of(0, 2) };
    await expect(
      kernels.reduceByKeyUtf8Async(bad, new Float64Array(1), "sum"),
    ).rejects.toMatchObject({
      code: "SLUICE_NATIVE_INVALID_OFFSETS",
    });
  });

  it("shuffles rows stably into partitions", () => {
    const { permutation, bounds } = kernels.shuffle(Uint32Array.of(2, 0, 2, 1, 0), 3);
    expect(Array.from(permutation)).toEqual([1, 4, 3, 0, 2]);
    expect(Array.from(bounds)).toEqual([0, 2, 3, 5]);
    expect(() => kernels.shuffle(Uint32Array.of(0, 3), 3)).toThrowError(
      expect.objectContaining({
        code: "SLUICE_NATIVE_INVALID_ARGUMENT",
        message: expect.stringContaining("row 1"),
      }),
    );
  });
});

describe("key column helpers", () => {
  it("packs buffers and decodes rows back to strings", () => {
    const column = keyColumnFromBuffers([
      Buffer.from("héllo"),
      new Uint8Array(0),
      Buffer.from("🙂"),
    ]);
    expect(Array.from(column.offsets)).toEqual([0, 6, 6, 10]);
    expect(decodeKeyColumn(column)).toEqual(["héllo", "", "🙂"]);
  });

  it("packs values that lie back to back in one buffer as a view of it, and copies any other", () => {
    const read = new TextEncoder().encode("xxa b\nc\ndé\n");
    const slices = [
      read.subarray(2, 6),
      read.subarray(6, 8),
      read.subarray(8, 8),
      read.subarray(8),
    ];
    const view = keyColumnFromBuffers(slices);
    expect(view.keys.buffer).toBe(read.buffer);
    expect(view.keys.byteOffset).toBe(2);
    expect(decodeKeyColumn(view)).toEqual(["a b\n", "c\n", "", "dé\n"]);
    // A gap, an order that is not the buffer's, or a second buffer: copied.
    for (const values of [
      [read.subarray(2, 5), read.subarray(6, 8)],
      [read.subarray(6, 8), read.subarray(2, 6)],
      [read.subarray(2, 6), read.slice(6, 8)],
    ]) {
      const copied = keyColumnFromBuffers(values);
      expect(copied.keys.buffer).not.toBe(read.buffer);
      expect(Buffer.from(copied.keys)).toEqual(Buffer.concat(values));
    }
    expect(Array.from(keyColumnFromBuffers([]).offsets)).toEqual([0]);
  });
});
