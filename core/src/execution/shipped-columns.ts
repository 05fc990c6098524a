import { SourceRecordColumns, type SourceRecordColumnsInit } from "../connector/record-columns.js";
import type { ColumnarPartition } from "../dstream/columnar-batch.js";
import { PiecewiseText } from "../dstream/piecewise-text.js";
import type { KeyColumn } from "../kernels/kernels.js";

/**
 * A columnar partition as it crosses to an executor: its typed arrays (copied once by the
 * message, a memcpy each) instead of one cloned object per record; a byte batch travels as its
 * fields (keys and partitions as their arrays, headers one entry per row, those made on demand
 * made before it leaves) and is made a `SourceRecordColumns` again on arrival.
 */
export type ShippedColumns =
  | Exclude<ColumnarPartition, { kind: "records" }>
  | { readonly kind: "records"; readonly pieces: readonly SourceRecordColumnsInit[] }
  /** Lines in pieces never joined on the driver (`PiecewiseText`): the executor reads them so. */
  | { readonly kind: "text-pieces"; readonly pieces: readonly KeyColumn[] };

/**
 * `partition` ready to be posted to an executor.
 *
 * @example
 * const input = { kind: "columns", columns: shippable(batch.columns[0]) };
 */
export function shippable(partition: ColumnarPartition): ShippedColumns {
  switch (partition.kind) {
    case "records":
      return { kind: "records", pieces: partition.pieces.map((piece) => piece.fields()) };
    case "text":
      if (partition instanceof PiecewiseText && !partition.isJoined) {
        return { kind: "text-pieces", pieces: partition.pieces.map(compactColumn) };
      }
      return { kind: "text", keys: compactColumn(partition.keys) };
    case "pairs": {
      const { values } = partition;
      return {
        kind: "pairs",
        keys: compactColumn(partition.keys),
        values: typeof values === "number" ? values : compact(values),
      };
    }
    case "numbers":
      return { kind: "numbers", values: compact(partition.values) };
  }
}

function compactColumn(column: KeyColumn): KeyColumn {
  return { keys: compact(column.keys), offsets: compact(column.offsets) };
}

/**
 * `array` alone in its buffer: a message clones a typed array's whole buffer, so a view into a
 * larger one (a source's read buffer, a parser's blob) is copied out first, once, to what it sees.
 */
function compact<Array extends Uint8Array | Uint32Array | Float64Array>(array: Array): Array {
  if (array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) return array;
  return array.slice() as Array;
}

/**
 * A shipped partition as a columnar partition again, on the executor.
 *
 * @example
 * const records = materialise(revived(input.columns));
 */
export function revived(shipped: ShippedColumns): ColumnarPartition {
  if (shipped.kind === "text-pieces") return new PiecewiseText(shipped.pieces);
  if (shipped.kind !== "records") return shipped;
  return { kind: "records", pieces: shipped.pieces.map((init) => new SourceRecordColumns(init)) };
}
