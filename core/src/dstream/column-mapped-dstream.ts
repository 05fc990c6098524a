import type { Batch } from "./batch.js";
import { ColumnarBatch, type ColumnarPartition, materialise } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import {
  type ColumnsKind,
  type ColumnsOfKind,
  columnsOfRecords,
  columnsView,
} from "./partition-columns.js";
import { tagStreamId } from "./record-step.js";

/** What a column-mapped stream's function is given: one partition's columns and its index. */
export type ColumnsFunction<K extends ColumnsKind, U> = (
  columns: ColumnsOfKind[K],
  partitionIndex: number,
) => Iterable<U>;

/**
 * `mapTextColumns`, `mapPairColumns`, `mapNumberColumns`: each partition through a function
 * that reads it as columns (PySpark's `mapInArrow` for a DStream). A partition that is already
 * columns (after a byte parser or a named reduction, not yet decoded) is handed over as it is,
 * on the driver or shipped to an executor, and no JS value is made per record; any other
 * partition is encoded from its records first. The function reads the columns and must not
 * change them: other operations may read the same batch.
 *
 * @example
 * counts.mapPairColumns(({ rows }) => [rows]); // a ColumnMappedDStream
 */
export class ColumnMappedDStream<T, K extends ColumnsKind, U> extends OneParentDStream<T, U> {
  constructor(
    parent: DStream<T>,
    readonly kind: K,
    private readonly fn: ColumnsFunction<K, U>,
  ) {
    super(parent);
  }

  override get operatorName(): string {
    return NAMES[this.kind];
  }

  protected async compute(time: number): Promise<Batch<U> | undefined> {
    const batch = await this.parentBatch(time);
    if (batch === undefined) return undefined;
    if (batch instanceof ColumnarBatch && !batch.isMaterialised) {
      const columns = batch.columns as ReadonlyArray<ColumnarPartition>;
      return { time, partitions: columns.map((p, i) => this.applyToColumns(p, i)) };
    }
    return { time, partitions: batch.partitions.map((p, i) => this.applyToPartition(p, i)) };
  }

  /** The function over `records` encoded as columns. */
  applyToPartition(records: ReadonlyArray<T>, partitionIndex: number): U[] {
    return [
      ...this.fn(
        columnsOfRecords(records, this.kind, NAMES[this.kind], partitionIndex),
        partitionIndex,
      ),
    ];
  }

  /**
   * The function over a columnar partition, read as it is when it holds this operator's kind
   * (decoded and encoded again otherwise). Errors carry this stream's id, as a chain's do.
   */
  applyToColumns(partition: ColumnarPartition, partitionIndex: number): U[] {
    try {
      const view = columnsView(partition, this.kind);
      if (view === undefined) {
        return this.applyToPartition(materialise(partition) as T[], partitionIndex);
      }
      return [...this.fn(view, partitionIndex)];
    } catch (error) {
      tagStreamId(error, this.id);
      throw error;
    }
  }
}

const NAMES: Readonly<Record<ColumnsKind, string>> = {
  text: "mapTextColumns",
  pairs: "mapPairColumns",
  numbers: "mapNumberColumns",
};

/**
 * True when `stream` reads columnar partitions as they are (`ColumnMappedDStream`).
 *
 * @example
 * if (readsColumns(stream)) stream.applyToColumns(partition, 0);
 */
export function readsColumns(
  stream: DStream<unknown>,
): stream is ColumnMappedDStream<unknown, ColumnsKind, unknown> {
  return stream instanceof ColumnMappedDStream;
}
