import type { Batch } from "./batch.js";

/**
 * `[string, number]` rows as three columns: the keys back to back in one string, where each key
 * ends, and the numbers. How a reduce task's rows cross from an executor.
 */
export interface TextPairs {
  readonly text: string;
  /** Where each key ends in `text` (UTF-16 units); key `i` starts where key `i - 1` ends. */
  readonly ends: Uint32Array;
  readonly values: Float64Array;
}

/** The longest `text` of text pairs (UTF-16 units), well under V8's string limit of 2^29 - 24. */
export const MAX_TEXT_PAIRS_TEXT = 2 ** 28;

/**
 * The rows of text pairs, in order.
 *
 * @example
 * rowsOfTextPairs({ text: "abc", ends: Uint32Array.of(1, 3), values: Float64Array.of(1, 2) }); // [["a", 1], ["bc", 2]]
 */
export function rowsOfTextPairs(pairs: TextPairs): [string, number][] {
  const { text, ends, values } = pairs;
  const out = new Array<[string, number]>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    out[i] = [text.slice(start, end), values[i] as number];
    start = end;
  }
  return out;
}

/**
 * A batch of `[string, number]` rows that came back from the executors as text pairs (a reduce
 * task's output), made into rows only when `partitions` is read, and then kept. What reads the
 * columns as they are needs no row: `reduceByKeyAndWindow` with an inverse keeps each batch's
 * reduction for the length of its window, and as columns that is three objects per partition
 * where rows are two per row for the collector to copy and mark.
 *
 * @example
 * const batch = new TextPairsBatch(1000, [{ text: "ab", ends: Uint32Array.of(1, 2), values: Float64Array.of(3, 4) }]);
 * batch.partitions; // [[["a", 3], ["b", 4]]]
 */
export class TextPairsBatch implements Batch<[string, number]> {
  #rows: [string, number][][] | undefined;

  constructor(
    readonly time: number,
    readonly columns: ReadonlyArray<TextPairs>,
  ) {}

  /** The rows, made from the columns on first read. */
  get partitions(): ReadonlyArray<ReadonlyArray<[string, number]>> {
    this.#rows ??= this.columns.map(rowsOfTextPairs);
    return this.#rows;
  }

  /**
   * The rows, made again (and not kept) when `partitions` was not read yet: for a reader that
   * reads the batch once and copies it (a checkpoint), so the rows do not stay with the batch.
   */
  rowsOnce(): ReadonlyArray<ReadonlyArray<[string, number]>> {
    return this.#rows ?? this.columns.map(rowsOfTextPairs);
  }

  /** True once `partitions` was read. */
  get isMaterialised(): boolean {
    return this.#rows !== undefined;
  }
}

/**
 * The partitions of `batch` counted without making rows of text pairs.
 *
 * @example
 * partitionCountOf(batch); // 2
 */
export function partitionCountOf(batch: Batch<unknown>): number {
  return batch instanceof TextPairsBatch ? batch.columns.length : batch.partitions.length;
}
