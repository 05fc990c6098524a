import fc from "fast-check";

/** Keys that exercise the byte handling: empty, ASCII, multi-byte, astral, lookalikes. */
const awkwardKeys = [
  "",
  "a",
  "A",
  "é",
  "e\u0301",
  "日本",
  "🙂",
  " ",
  "a b",
  "\u0000",
  "longer-key-of-forty-bytes-0123456789abcd",
];

/** A UTF-8 key: often from a small pool (duplicates), sometimes arbitrary text. */
export const utf8Key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...awkwardKeys) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 }).map((n) => `k${n}`) },
);

/** A value with the awkward doubles well represented. */
export const awkwardDouble = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      Number.NaN,
      -0,
      0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e308,
      -1e308,
      5e-324,
    ),
  },
);

/** A 64-bit key: often from a small pool, sometimes anywhere in range. */
export const i64Key = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0n,
      -1n,
      1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      4294967296n,
      -4294967296n,
    ),
  },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 40n }) },
);

/** A batch of rows: keys and one value each (possibly empty). */
export function rowsOf<K>(key: fc.Arbitrary<K>, maxLength = 200) {
  return fc.array(fc.tuple(key, awkwardDouble), { maxLength });
}

/** The ops reduceByKey and windows accept. */
export const aggregateOp = fc.constantFrom("sum", "count", "min", "max", "mean" as const);

/**
 * A deterministic large batch: `rows` rows over `distinct` keys (xorshift), for the few large
 * cases the suite runs.
 */
export function largeBatch(
  rows: number,
  distinct: number,
  seed = 1,
): { keys: string[]; values: Float64Array } {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const keys = new Array<string>(rows);
  const values = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    keys[row] = `key-${next() % distinct}-é`;
    values[row] = (next() % 2001) / 8 - 125;
  }
  return { keys, values };
}
