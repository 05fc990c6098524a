import {
  MAX_TEXT_PAIRS_TEXT,
  rowsOfTextPairs,
  type TextPairs,
} from "../dstream/text-pairs-batch.js";

/**
 * `[string, number]` rows as they cross between threads: the keys as one string back to back
 * with where each ends, the numbers as one array. The message copies one string and two typed
 * arrays instead of cloning an array, a string and a number per row, and the receiving thread
 * makes each row again with one slice of the string. Only for rows Sluice built itself (a
 * shuffle's combined rows, a reduce side's output): a user's row could carry more than its two
 * elements (a property of its own), which cloning would keep.
 */
export type ShippedPairs = TextPairs;

/**
 * `rows` as shipped pairs when every row is a string key and a number, else `undefined`.
 *
 * @example
 * shippedPairs([["a", 1], ["bc", 2]]); // { text: "abc", ends: [1, 3], values: [1, 2] }
 */
export function shippedPairs(
  rows: ReadonlyArray<readonly [unknown, unknown]>,
): ShippedPairs | undefined {
  const count = rows.length;
  const ends = new Uint32Array(count);
  const values = new Float64Array(count);
  const keys = new Array<string>(count);
  let end = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i] as readonly [unknown, unknown];
    const key = row[0];
    const value = row[1];
    if (typeof key !== "string" || typeof value !== "number") return undefined;
    end += key.length;
    if (end > MAX_TEXT_PAIRS_TEXT) return undefined;
    keys[i] = key;
    ends[i] = end;
    values[i] = value;
  }
  return { text: keys.join(""), ends, values };
}

/**
 * The rows of shipped pairs, in order.
 *
 * @example
 * pairsOfShipped({ text: "abc", ends: Uint32Array.of(1, 3), values: Float64Array.of(1, 2) }); // [["a", 1], ["bc", 2]]
 */
export const pairsOfShipped: (shipped: ShippedPairs) => [string, number][] = rowsOfTextPairs;
