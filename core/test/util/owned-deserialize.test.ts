// Restored state must not keep the checkpoint it came from alive through views into its bytes.
import { deserialize, serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { deserializeOwned } from "../../src/util/owned-deserialize.js";

/** `value` serialized inside a larger buffer, as it sits within a checkpoint file. */
function inLargerBuffer(value: unknown): Uint8Array {
  const bytes = serialize(value);
  const file = new Uint8Array(bytes.byteLength + 4096);
  file.set(bytes, 64);
  return file.subarray(64, 64 + bytes.byteLength);
}

describe("deserializeOwned", () => {
  const state = {
    sums: new Float64Array([1.5, 2.5, 3.5]),
    counts: new Uint32Array([7, 8]),
    key: Buffer.from("sensor-1"),
    raw: new Uint8Array([1, 2, 3]),
    nested: new Map([["a", { window: new Int32Array([4, 5]) }]]),
  };

  it("gives arrays that own their bytes (Node's deserialize gives views into the input)", () => {
    const bytes = inLargerBuffer(state);
    const viewed = deserialize(bytes) as typeof state;
    expect(viewed.sums.buffer.byteLength).toBeGreaterThan(viewed.sums.byteLength);

    const owned = deserializeOwned(bytes) as typeof state;
    for (const array of [
      owned.sums,
      owned.counts,
      owned.key,
      owned.raw,
      owned.nested.get("a")?.window,
    ]) {
      expect(array?.buffer).not.toBe(bytes.buffer);
    }
    expect(owned.sums.buffer.byteLength).toBe(owned.sums.byteLength);
    expect(owned.raw.buffer.byteLength).toBe(3);
    expect(owned.nested.get("a")?.window.buffer.byteLength).toBe(8);
  });

  it("restores the same values and types", () => {
    const owned = deserializeOwned(inLargerBuffer(state)) as typeof state;
    expect(owned.sums).toBeInstanceOf(Float64Array);
    expect([...owned.sums]).toEqual([1.5, 2.5, 3.5]);
    expect([...owned.counts]).toEqual([7, 8]);
    expect(Buffer.isBuffer(owned.key)).toBe(true);
    expect(owned.key.toString()).toBe("sensor-1");
    expect([...owned.raw]).toEqual([1, 2, 3]);
    expect([...(owned.nested.get("a")?.window ?? [])]).toEqual([4, 5]);
  });
});
