// partitionOfKey places a string key where the kernels place its UTF-8 bytes, whether the key is
// ASCII (hashed from its own code units) or not (encoded first).
import fc from "fast-check";
import { partitionOfKey } from "sluice";
import { describe, expect, it } from "vitest";
import { JsKernels } from "../../src/kernels/js-kernels.js";
import { keyColumnFromStrings } from "../../src/kernels/key-column.js";

describe("partitionOfKey for strings", () => {
  it("equals the kernels' hashPartitionUtf8 for any string", () => {
    const kernels = new JsKernels();
    // ASCII, the Latin-1 range (one UTF-16 unit, two UTF-8 bytes), other planes, lone surrogates.
    const unit = fc.constantFrom(
      "a",
      "Z",
      " ",
      "\u0000",
      "\u007f",
      "\u0080",
      "é",
      "ÿ",
      "€",
      "日",
      "😀",
      "\ud800",
      "\udfff",
    );
    const text = fc.array(unit, { maxLength: 12 }).map((units) => units.join(""));
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 2, max: 9 }),
        (keys, partitions) => {
          const expected = Array.from(
            kernels.hashPartitionUtf8(keyColumnFromStrings(keys), partitions),
          );
          expect(keys.map((key) => partitionOfKey(key, partitions))).toEqual(expected);
        },
      ),
    );
  });
});
