import { SourceRecordColumns, type SourceRecordColumnsInit } from "../connector/record-columns.js";
import type { ColumnarPartition } from "../dstream/columnar-batch.js";

/**
 * A columnar partition as it crosses to an executor: its typed arrays (copied once by the
 * message, a memcpy each) instead of one cloned object per record; a byte batch travels as its
 * fields (keys and partitions as their arrays, headers one entry per row, those made on demand
 * made before it leaves) and is made a `SourceRecordColumns` again on arrival.
 */
export type ShippedColumns =
  | Exclude<ColumnarPartition, { kind: "records" }>
  | { readonly kind: "records"; readonly pieces: readonly SourceRecordColumnsInit[] };

/**
 * `partition` ready to be posted to an executor.
 *
 * @example
 * const input = { kind: "columns", columns: shippable(batch.columns[0]) };
 */
export function shippable(partition: ColumnarPartition): ShippedColumns {
  if (partition.kind !== "records") return partition;
  return { kind: "records", pieces: partition.pieces.map((piece) => piece.fields()) };
}

/**
 * A shipped partition as a columnar partition again, on the executor.
 *
 * @example
 * const records = materialise(revived(input.columns));
 */
export function revived(shipped: ShippedColumns): ColumnarPartition {
  if (shipped.kind !== "records") return shipped;
  return { kind: "records", pieces: shipped.pieces.map((init) => new SourceRecordColumns(init)) };
}
