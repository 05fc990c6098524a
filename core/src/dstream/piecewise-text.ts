import type { KeyColumn } from "../kernels/kernels.js";

/**
 * A partition of text made of several pieces (a source's reads, each a key column of lines),
 * joined into one key column only when `keys` is first read. A task on an executor reads the
 * pieces as they are, so the driver does not copy a batch's lines into one column before the
 * first task can leave (about 20 ms for 400k lines of a socket).
 *
 * @example
 * const text = new PiecewiseText([first.values, second.values]);
 * text.keys; // both pieces' lines in one column
 */
export class PiecewiseText {
  readonly kind = "text";
  #keys: KeyColumn | undefined;

  constructor(readonly pieces: readonly KeyColumn[]) {}

  /** Every piece's lines in one column, joined on first read and then kept. */
  get keys(): KeyColumn {
    this.#keys ??= joinKeyColumns(this.pieces);
    return this.#keys;
  }

  /** True once `keys` was read. */
  get isJoined(): boolean {
    return this.#keys !== undefined;
  }
}

/**
 * The rows of several key columns, in order, as one: their used bytes copied back to back and
 * the offsets moved to match.
 *
 * @example
 * joinKeyColumns([keyColumnFromStrings(["a"]), keyColumnFromStrings(["b", "c"])]); // a, b, c
 */
export function joinKeyColumns(columns: readonly KeyColumn[]): KeyColumn {
  let rows = 0;
  let bytes = 0;
  for (const { offsets } of columns) {
    const count = offsets.length - 1;
    rows += count;
    bytes += (offsets[count] as number) - (offsets[0] as number);
  }
  const keys = new Uint8Array(bytes);
  const joined = new Uint32Array(rows + 1);
  let row = 0;
  let at = 0;
  for (const column of columns) {
    const { offsets } = column;
    const count = offsets.length - 1;
    const start = offsets[0] as number;
    const end = offsets[count] as number;
    keys.set(column.keys.subarray(start, end), at);
    for (let i = 1; i <= count; i++) {
      joined[row + i] = at + (offsets[i] as number) - start;
    }
    row += count;
    at += end - start;
  }
  return { keys, offsets: joined };
}
