import type { KeyColumn } from "sluice/advanced";
import { expect } from "vitest";

/**
 * The bit patterns of `values` with every NaN written as the canonical quiet NaN: equal
 * exactly when the values are identical (including `-0` vs `+0`), whatever the NaN payload.
 */
export function canonicalBits(values: Float64Array): string[] {
  const bits = new BigUint64Array(values.length);
  const view = new Float64Array(bits.buffer);
  view.set(values);
  return Array.from(bits, (b, i) => (Number.isNaN(values[i]) ? "NaN" : b.toString(16)));
}

/** Asserts two Float64Arrays hold bit-identical values (NaN payloads aside). */
export function expectSameF64(actual: Float64Array, expected: Float64Array): void {
  expect(canonicalBits(actual)).toEqual(canonicalBits(expected));
}

/** Asserts two key columns hold the same rows (same bytes, same offsets). */
export function expectSameColumn(actual: KeyColumn, expected: KeyColumn): void {
  expect(Array.from(actual.offsets)).toEqual(Array.from(expected.offsets));
  expect(Buffer.from(actual.keys).equals(Buffer.from(expected.keys))).toBe(true);
}
