import type { ShuffleBlock } from "./shuffle-operator.js";
import { rowsOfTextPairs, type TextPairs } from "./text-pairs-batch.js";

/**
 * A shuffle block of `[string, number]` rows held as text pairs: a map side on an executor
 * writes its combined rows this way (they cross threads as they are), and a reduce side that
 * merges text pairs (`mergeTextPairs`) reads `pairs`; `rows` are made on first read, for any
 * other reader.
 *
 * @example
 * const block = textPairsBlock({ text: "ab", ends: Uint32Array.of(1, 2), values: Float64Array.of(1, 2) }, true);
 * block.rows; // [["a", 1], ["b", 2]]
 */
export function textPairsBlock(pairs: TextPairs, partial: boolean): ShuffleBlock {
  return new TextPairsBlock(pairs, partial);
}

class TextPairsBlock {
  readonly kind = "rows";
  private madeRows: [string, number][] | undefined;

  constructor(
    readonly pairs: TextPairs,
    readonly partial: boolean,
  ) {}

  get rows(): ReadonlyArray<readonly [unknown, unknown]> {
    this.madeRows ??= rowsOfTextPairs(this.pairs);
    return this.madeRows;
  }
}

/**
 * The text pairs of every block, or `undefined` when one of them holds rows only.
 *
 * @example
 * textPairsOfBlocks([textPairsBlock(pairs, true)]); // [pairs]
 */
export function textPairsOfBlocks(blocks: ReadonlyArray<ShuffleBlock>): TextPairs[] | undefined {
  const out: TextPairs[] = [];
  for (const block of blocks) {
    if (block.kind !== "rows" || block.pairs === undefined) return undefined;
    out.push(block.pairs);
  }
  return out;
}
