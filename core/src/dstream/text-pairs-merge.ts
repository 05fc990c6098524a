import type { AllocateBuffer } from "../kernels/key-column.js";
import { MAX_TEXT_PAIRS_TEXT, type TextPairs } from "./text-pairs-batch.js";

/** FNV-1a over UTF-16 units: cheap for the short keys words are, and spread enough for probing. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * The keys of several text-pair blocks merged, each key once in first-seen order (blocks in the
 * order given, rows in order within each) with its values combined in that order: what a
 * `CombinerTable` makes of the blocks' rows with `mergeCombiner`, found without making a string
 * per row. Each key is hashed over its UTF-16 units in the block's text and compared with the
 * first occurrence's units, so two keys are the same exactly when `Map` would say so. A reduce
 * task of `reduceByKey` merges its map tasks' text pairs here: a `Map` would need a new string
 * per row, and V8 hashes every new string again.
 *
 * @example
 * const merged = mergeTextPairs([left, right], (a, b) => a + b);
 * merged.rows(); // [["a", 3], ["b", 1]]
 */
export function mergeTextPairs(
  blocks: ReadonlyArray<TextPairs>,
  mergeCombiners: (left: unknown, right: unknown) => unknown,
): MergedTextPairs {
  let total = 0;
  for (const block of blocks) total += block.ends.length;
  let tableSize = 16;
  while (tableSize < total * 2) tableSize *= 2;
  const mask = tableSize - 1;
  // `id + 1` of the key in each slot (0: empty), and the key's hash, so most probes that miss
  // compare no text.
  const slots = new Int32Array(tableSize);
  const slotHashes = new Int32Array(tableSize);
  const blockOf = new Uint32Array(total);
  const startOf = new Uint32Array(total);
  const endOf = new Uint32Array(total);
  const values = new Array<unknown>(total);
  let size = 0;
  for (let b = 0; b < blocks.length; b++) {
    const { text, ends, values: blockValues } = blocks[b] as TextPairs;
    let start = 0;
    for (let row = 0; row < ends.length; row++) {
      const end = ends[row] as number;
      const length = end - start;
      let hash = FNV_OFFSET;
      for (let unit = start; unit < end; unit++) {
        hash = Math.imul(hash ^ text.charCodeAt(unit), FNV_PRIME);
      }
      let slot = hash & mask;
      for (;;) {
        const entry = slots[slot] as number;
        if (entry === 0) {
          slots[slot] = size + 1;
          slotHashes[slot] = hash;
          blockOf[size] = b;
          startOf[size] = start;
          endOf[size] = end;
          values[size] = blockValues[row];
          size++;
          break;
        }
        if (slotHashes[slot] === hash) {
          const id = entry - 1;
          const from = startOf[id] as number;
          if ((endOf[id] as number) - from === length) {
            const other = (blocks[blockOf[id] as number] as TextPairs).text;
            let unit = 0;
            while (
              unit < length &&
              other.charCodeAt(from + unit) === text.charCodeAt(start + unit)
            ) {
              unit++;
            }
            if (unit === length) {
              values[id] = mergeCombiners(values[id], blockValues[row]);
              break;
            }
          }
        }
        slot = (slot + 1) & mask;
      }
      start = end;
    }
  }
  return new MergedTextPairs(blocks, size, blockOf, startOf, endOf, values);
}

/**
 * The result of `mergeTextPairs`: where each key is (its first occurrence's block and range)
 * and its combined value. Read as rows, or as text pairs again when every value is a number.
 */
export class MergedTextPairs {
  constructor(
    private readonly blocks: ReadonlyArray<TextPairs>,
    /** Distinct keys. */
    readonly size: number,
    private readonly blockOf: Uint32Array,
    private readonly startOf: Uint32Array,
    private readonly endOf: Uint32Array,
    private readonly values: ReadonlyArray<unknown>,
  ) {}

  /** Every `[key, value]` in first-seen order. */
  rows(): [string, unknown][] {
    const { blocks, size, blockOf, startOf, endOf, values } = this;
    const out = new Array<[string, unknown]>(size);
    for (let id = 0; id < size; id++) {
      const text = (blocks[blockOf[id] as number] as TextPairs).text;
      out[id] = [text.slice(startOf[id], endOf[id]), values[id]];
    }
    return out;
  }

  /**
   * The merged rows as text pairs (their arrays allocated by `allocate`), or `undefined` when a
   * value is not a number (a combiner function may return anything) or the keys are too long
   * for one string. Runs of keys that lie back to back in a block's text (all of the first
   * block's, which are all new) are cut out of it as one piece.
   */
  textPairs(allocate: AllocateBuffer): TextPairs | undefined {
    const { blocks, size, blockOf, startOf, endOf, values } = this;
    const ends = new Uint32Array(allocate(size * Uint32Array.BYTES_PER_ELEMENT));
    const numbers = new Float64Array(allocate(size * Float64Array.BYTES_PER_ELEMENT));
    const pieces: string[] = [];
    let length = 0;
    let id = 0;
    while (id < size) {
      const block = blockOf[id] as number;
      const from = startOf[id] as number;
      let to = endOf[id] as number;
      // Extend the piece while the next key follows this one in the same block's text.
      for (;;) {
        const value = values[id];
        if (typeof value !== "number") return undefined;
        numbers[id] = value;
        length += (endOf[id] as number) - (startOf[id] as number);
        ends[id] = length;
        id++;
        if (id >= size || blockOf[id] !== block || startOf[id] !== to) break;
        to = endOf[id] as number;
      }
      if (length > MAX_TEXT_PAIRS_TEXT) return undefined;
      const text = (blocks[block] as TextPairs).text;
      pieces.push(from === 0 && to === text.length ? text : text.slice(from, to));
    }
    return { text: pieces.join(""), ends, values: numbers };
  }
}
