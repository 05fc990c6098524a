/**
 * A partition of strings as it crosses to an executor: one string of them all back to back and
 * where each ends. The message then copies one string (a memcpy) instead of one per record, and
 * the executor reads each record as a slice of it (for most records a view into it, not a copy);
 * the receiving thread allocates one large string instead of a young object per record, which
 * its young-generation collections would copy until they are promoted.
 */
export interface ShippedStrings {
  readonly text: string;
  /** Where each record ends in `text` (UTF-16 units); record `i` starts where `i - 1` ends. */
  readonly ends: Uint32Array;
}

/** Fewer records than this travel as they are (one string of them all gains nothing). */
const MIN_RECORDS = 64;

/**
 * The longest string joined (UTF-16 units): V8 strings end at 2^29 - 24 units; a partition
 * longer than this travels as it is.
 */
const MAX_TEXT = 2 ** 28;

/**
 * `records` as shipped strings when every record is a string (and there are enough of them),
 * else `undefined`.
 *
 * @example
 * shippedStrings(lines); // { text: "ab c", ends: Uint32Array [2, 4] } for ["ab", " c"]
 */
export function shippedStrings(records: ReadonlyArray<unknown>): ShippedStrings | undefined {
  const count = records.length;
  if (count < MIN_RECORDS) return undefined;
  const ends = new Uint32Array(count);
  let end = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    if (typeof record !== "string") return undefined;
    end += record.length;
    if (end > MAX_TEXT) return undefined;
    ends[i] = end;
  }
  return { text: records.join(""), ends };
}

/**
 * The records of shipped strings, in order.
 *
 * @example
 * recordsOfStrings({ text: "ab c", ends: Uint32Array.of(2, 4) }); // ["ab", " c"]
 */
export function recordsOfStrings(shipped: ShippedStrings): string[] {
  const { text, ends } = shipped;
  const out = new Array<string>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    out[i] = text.slice(start, end);
    start = end;
  }
  return out;
}

/**
 * Each record of shipped strings handed to `visit` in order, cut from the text as it is read and
 * kept nowhere.
 *
 * @example
 * forEachShippedString({ text: "ab c", ends: Uint32Array.of(2, 4) }, (record) => out.push(record));
 */
export function forEachShippedString(
  shipped: ShippedStrings,
  visit: (record: string) => void,
): void {
  const { text, ends } = shipped;
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    visit(text.slice(start, end));
    start = end;
  }
}
