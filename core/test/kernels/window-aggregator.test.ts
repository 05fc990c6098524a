import {
  decodeKeyColumn,
  JsKernels,
  type Kernels,
  keyColumnFromStrings,
  NativeKernels,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

const engines: ReadonlyArray<[string, () => Kernels]> = [
  ["native", () => new NativeKernels(requireNativeBinding())],
  ["js", () => new JsKernels()],
];

const batch = (keys: string[], values: number[]) => ({
  keys: keyColumnFromStrings(keys),
  values: Float64Array.from(values),
});

describe.each(engines)("window aggregator (%s kernels)", (_name, make) => {
  const kernels = make();

  it("sums a sliding window incrementally and forgets keys that left every pane", () => {
    const window = kernels.createWindowAggregator({
      op: "sum",
      windowMs: 3000,
      slideMs: 1000,
      keyKind: "utf8",
    });
    expect(window.paneMs).toBe(1000);
    const emit = (end: number) => {
      const { keys, values } = window.emit(end);
      return decodeKeyColumn(keys).map((key, i) => [key, values[i]]);
    };
    window.add(1000, batch(["a", "b"], [1, 10]));
    expect(emit(1000)).toEqual([
      ["a", 1],
      ["b", 10],
    ]);
    window.add(2000, batch(["a"], [2]));
    window.add(3000, batch(["c"], [5]));
    expect(emit(3000)).toEqual([
      ["a", 3],
      ["b", 10],
      ["c", 5],
    ]);
    window.evict(1000);
    window.add(4000, batch(["b"], [7]));
    // Moving the window without reading it changes nothing about what emit returns.
    window.advance(4000);
    // "b" left every pane when pane 1 was evicted, so it comes back after "c".
    expect(emit(4000)).toEqual([
      ["a", 2],
      ["c", 5],
      ["b", 7],
    ]);
    window.evict(4000);
    expect(emit(6000)).toEqual([]);
    expect(window.memoryBytes).toBeGreaterThan(0);
  });

  it("recomputes min and max, with NaN propagating and -0 below +0", () => {
    const window = kernels.createWindowAggregator({
      op: "min",
      windowMs: 2000,
      slideMs: 1000,
      keyKind: "i64",
    });
    window.add(1000, {
      keys: BigInt64Array.of(1n, 1n, 2n),
      values: Float64Array.of(3, -0, Number.NaN),
    });
    window.add(2000, { keys: BigInt64Array.of(1n, 2n), values: Float64Array.of(0, 1) });
    const first = window.emit(2000);
    expect(Array.from(first.keys)).toEqual([1n, 2n]);
    expect(Object.is(first.values[0], -0)).toBe(true);
    expect(first.values[1]).toBeNaN();
    expect(Array.from(window.emit(3000).values)).toEqual([0, 1]);
  });

  it("counts without values, means and non-finite sums leave the window exactly", () => {
    const counts = kernels.createWindowAggregator({
      op: "count",
      windowMs: 2000,
      slideMs: 1000,
      keyKind: "utf8",
    });
    counts.add(1000, batch(["x", "x", "y"], []));
    expect(Array.from(counts.emit(1000).values)).toEqual([2, 1]);
    const sums = kernels.createWindowAggregator({
      op: "mean",
      windowMs: 2000,
      slideMs: 1000,
      keyKind: "i64",
    });
    sums.add(1000, {
      keys: BigInt64Array.of(7n),
      values: Float64Array.of(Number.POSITIVE_INFINITY),
    });
    sums.add(2000, { keys: BigInt64Array.of(7n, 7n), values: Float64Array.of(1, 2) });
    expect(Array.from(sums.emit(2000).values)).toEqual([Number.POSITIVE_INFINITY]);
    expect(Array.from(sums.emit(3000).values)).toEqual([1.5]);
  });

  it("rejects late data, unaligned window ends, the wrong key kind and bad options", () => {
    const window = kernels.createWindowAggregator({
      op: "count",
      windowMs: 3000,
      slideMs: 2000,
      keyKind: "utf8",
    });
    expect(window.paneMs).toBe(1000);
    window.evict(2000);
    const invalid = (text: string) =>
      expect.objectContaining({
        code: "SLUICE_NATIVE_INVALID_ARGUMENT",
        message: expect.stringContaining(text),
      });
    expect(() => window.add(2000, batch(["a"], []))).toThrowError(invalid("already evicted"));
    window.add(2001, batch(["a"], []));
    expect(() => window.emit(2500)).toThrowError(invalid("multiple of the pane length"));
    expect(() => window.emit(-1000)).toThrowError(invalid("windowEndMs"));
    expect(() => window.add(1.5, batch([], []))).toThrowError(invalid("timeMs"));
    const wrongKind = {
      keys: BigInt64Array.of(1n),
      values: new Float64Array(0),
    } as unknown as ReturnType<typeof batch>;
    expect(() => window.add(5000, wrongKind)).toThrowError(invalid("holds utf8 keys"));
    expect(() =>
      kernels.createWindowAggregator({ op: "sum", windowMs: 0, slideMs: 1, keyKind: "i64" }),
    ).toThrowError(invalid("windowMs"));
  });

  it("restores its own snapshot and refuses another window's or broken bytes", () => {
    const options = { op: "sum", windowMs: 3000, slideMs: 1000, keyKind: "utf8" } as const;
    const window = kernels.createWindowAggregator(options);
    window.add(1000, batch(["a", "é", ""], [1, Number.NaN, -0]));
    window.emit(1000);
    window.add(2000, batch(["a"], [2]));
    const bytes = window.snapshot();
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("SLWA");
    const copy = kernels.createWindowAggregator(options);
    copy.restore(bytes);
    expect(Buffer.from(copy.snapshot()).equals(Buffer.from(bytes))).toBe(true);
    expect(decodeKeyColumn(copy.emit(3000).keys)).toEqual(decodeKeyColumn(window.emit(3000).keys));
    const other = kernels.createWindowAggregator({ ...options, op: "max" });
    expect(() => other.restore(bytes)).toThrowError(
      expect.objectContaining({
        code: "SLUICE_NATIVE_INVALID_SNAPSHOT",
        message: expect.stringContaining("sum window"),
      }),
    );
    expect(() => copy.restore(bytes.subarray(0, bytes.length - 1))).toThrowError(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_SNAPSHOT" }),
    );
  });
});
