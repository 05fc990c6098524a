import fc from "fast-check";
import { SluiceError } from "sluice";
import {
  JsKernels,
  type Kernels,
  keyColumnFromStrings,
  murmur3,
  NativeKernels,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

const encoder = new TextEncoder();
const engines: ReadonlyArray<[string, () => Kernels]> = [
  ["native", () => new NativeKernels(requireNativeBinding())],
  ["js", () => new JsKernels()],
];

describe.each(engines)("hash partitioning (%s kernels)", (_name, make) => {
  const kernels = make();

  it("hashes with MurmurHash3 x86_32, seed 0", () => {
    const column = keyColumnFromStrings([
      "",
      "hello",
      "The quick brown fox jumps over the lazy dog",
    ]);
    expect(Array.from(kernels.murmur3Utf8(column))).toEqual([0, 0x248bfa47, 0x2e4ff723]);
  });

  it("puts every key in hash % n", () => {
    const column = keyColumnFromStrings(["hello", "hello", "wörld", ""]);
    const partitions = kernels.hashPartitionUtf8(column, 7);
    expect(Array.from(partitions)).toEqual([
      0x248bfa47 % 7,
      0x248bfa47 % 7,
      murmur3(encoder.encode("wörld")) % 7,
      0,
    ]);
  });

  it("partitions 64-bit integer keys as their little-endian bytes", () => {
    const keys = BigInt64Array.of(0n, -1n, 42n);
    const expected = Array.from(keys, (key) => {
      const bytes = new Uint8Array(BigInt64Array.of(key).buffer);
      return murmur3(bytes) % 16;
    });
    expect(Array.from(kernels.hashPartitionI64(keys, 16))).toEqual(expected);
  });

  it("rejects bad offsets and partition counts with stable codes", () => {
    const bad = { keys: new Uint8Array(2), offsets: Uint32Array.of(0, 3) };
    expect(() => kernels.hashPartitionUtf8(bad, 2)).toThrowError(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_OFFSETS" }),
    );
    expect(() => kernels.hashPartitionUtf8(keyColumnFromStrings(["a"]), 0)).toThrowError(
      SluiceError,
    );
  });
});

describe("native and TypeScript kernels agree", () => {
  const native = new NativeKernels(requireNativeBinding());
  const js = new JsKernels();

  it("on random UTF-8 keys and partition counts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme" }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 1024 }),
        (keys, n) => {
          const column = keyColumnFromStrings(keys);
          expect(native.hashPartitionUtf8(column, n)).toEqual(js.hashPartitionUtf8(column, n));
        },
      ),
    );
  });

  it("on random 64-bit keys", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
        fc.integer({ min: 1, max: 1024 }),
        (keys, n) => {
          const column = BigInt64Array.from(keys);
          expect(native.hashPartitionI64(column, n)).toEqual(js.hashPartitionI64(column, n));
        },
      ),
    );
  });
});
