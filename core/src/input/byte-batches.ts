import type { SourceRecordColumns } from "../connector/record-columns.js";
import type { ReceivedBlock } from "./block-buffer.js";

/**
 * The byte batches of `blocks` when every block that holds records came as one, else
 * `undefined` (the batch is then made of record objects).
 *
 * @example
 * byteBatchesOf(buffer.take()); // [columns, columns] or undefined
 */
export function byteBatchesOf<T>(
  blocks: ReadonlyArray<ReceivedBlock<T>>,
): SourceRecordColumns[] | undefined {
  const columns: SourceRecordColumns[] = [];
  for (const block of blocks) {
    if (block.columns !== undefined) {
      if (block.columns.length > 0) columns.push(block.columns);
    } else if (block.records.length > 0) {
      return undefined;
    }
  }
  return columns.length === 0 ? undefined : columns;
}

/**
 * Cuts byte batches holding `rows` records in all into `numPartitions` contiguous runs of
 * near-equal size (slice i holds rows `[i*n/p, (i+1)*n/p)`, as `sliceIntoPartitions` does for
 * records), each a list of pieces; a batch that straddles a cut is split in two.
 *
 * @example
 * sliceColumns([columns], columns.length, 2); // [[first half], [second half]]
 */
export function sliceColumns(
  columns: ReadonlyArray<SourceRecordColumns>,
  rows: number,
  numPartitions: number,
): SourceRecordColumns[][] {
  const partitions: SourceRecordColumns[][] = [];
  let piece = 0;
  let offsetInPiece = 0;
  for (let partition = 0; partition < numPartitions; partition++) {
    const want =
      Math.floor(((partition + 1) * rows) / numPartitions) -
      Math.floor((partition * rows) / numPartitions);
    const pieces: SourceRecordColumns[] = [];
    let taken = 0;
    while (taken < want) {
      const current = columns[piece] as SourceRecordColumns;
      const left = current.length - offsetInPiece;
      const take = Math.min(left, want - taken);
      pieces.push(
        offsetInPiece === 0 && take === current.length
          ? current
          : current.slice(offsetInPiece, offsetInPiece + take),
      );
      taken += take;
      offsetInPiece += take;
      if (offsetInPiece === current.length) {
        piece++;
        offsetInPiece = 0;
      }
    }
    partitions.push(pieces);
  }
  return partitions;
}
