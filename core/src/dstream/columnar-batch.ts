import type { SourceRecordColumns } from "../connector/record-columns.js";
import type { KeyColumn } from "../kernels/kernels.js";
import { decodeKeyColumn, decodeKeyColumnWith } from "../kernels/key-column.js";
import type { Batch } from "./batch.js";

/**
 * One partition of a batch held as columns instead of JS values:
 * - `text`: one string per row, as UTF-8 rows of a key column (a `DStream<string>`);
 * - `numbers`: one number per row (a `DStream<number>`);
 * - `pairs`: one `[string, number]` pair per row (a `DStream<[string, number]>`); `values` is
 *   one number per row, or a single number every row has (`countByValue`'s ones, never
 *   written out);
 * - `records`: source records as byte batches (`SourceRecordColumns`, one per run of records
 *   from one source partition) of a `DStream<SourceRecord>`, whose values a byte parser reads
 *   as they are.
 */
export type ColumnarPartition =
  | { readonly kind: "records"; readonly pieces: readonly SourceRecordColumns[] }
  | { readonly kind: "text"; readonly keys: KeyColumn }
  | { readonly kind: "numbers"; readonly values: Float64Array }
  | {
      readonly kind: "pairs";
      readonly keys: KeyColumn;
      readonly values: Float64Array | number;
    };

/**
 * A batch whose partitions are columns (made by the byte parsers and the named reductions), so
 * the next declarative operation (`countByValue`, `reduceByKey("sum")`, another parser) reads
 * them with the kernels and no JS string is made per record. Anything that reads `partitions`
 * (a lambda, an output, a checkpoint, the executors) gets JS values, decoded once on first read
 * and kept.
 *
 * @example
 * const batch = new ColumnarBatch<string>(1000, [{ kind: "text", keys: keyColumnFromStrings(["a"]) }]);
 * batch.partitions; // [["a"]]
 */
export class ColumnarBatch<T> implements Batch<T> {
  #records: T[][] | undefined;

  constructor(
    readonly time: number,
    readonly columns: ReadonlyArray<ColumnarPartition>,
  ) {}

  /** The records as JS values, decoded from the columns on first read. */
  get partitions(): ReadonlyArray<ReadonlyArray<T>> {
    if (this.#records === undefined) {
      this.#records = this.columns.map((partition) => materialise(partition) as T[]);
    }
    return this.#records;
  }

  /** Rows in the batch, counted without decoding anything. */
  get size(): number {
    let size = 0;
    for (const partition of this.columns) size += rowsOf(partition);
    return size;
  }

  /**
   * Lets go of the JS values `partitions` decoded (they decode again, to equal values, if read
   * once more), keeping the columns.
   *
   * @example
   * batch.releaseRecords(); // batch.isMaterialised === false
   */
  releaseRecords(): void {
    this.#records = undefined;
  }

  /** True once `partitions` was read (the columns were decoded into JS values). */
  get isMaterialised(): boolean {
    return this.#records !== undefined;
  }
}

/**
 * The columns of `batch` when every partition is of `kind`, else `undefined` (a batch of JS
 * values, or mixed columns).
 *
 * @example
 * const text = columnsOf(batch, "text"); // KeyColumn rows per partition, or undefined
 */
export function columnsOf<Kind extends ColumnarPartition["kind"]>(
  batch: Batch<unknown>,
  kind: Kind,
): Extract<ColumnarPartition, { kind: Kind }>[] | undefined {
  if (!(batch instanceof ColumnarBatch)) return undefined;
  const columns = batch.columns;
  if (!columns.every((partition) => partition.kind === kind)) return undefined;
  return columns as Extract<ColumnarPartition, { kind: Kind }>[];
}

/** The rows of one columnar partition. */
export function rowsOf(partition: ColumnarPartition): number {
  if (partition.kind === "records") {
    return partition.pieces.reduce((rows, piece) => rows + piece.length, 0);
  }
  return partition.kind === "numbers" ? partition.values.length : partition.keys.offsets.length - 1;
}

/**
 * The JS values of one columnar partition.
 *
 * @example
 * materialise({ kind: "numbers", values: Float64Array.of(1, 2) }); // [1, 2]
 */
export function materialise(partition: ColumnarPartition): unknown[] {
  switch (partition.kind) {
    case "records":
      return partition.pieces.length === 1
        ? (partition.pieces[0] as SourceRecordColumns).records()
        : partition.pieces.flatMap((piece) => piece.records());
    case "text":
      return decodeKeyColumn(partition.keys);
    case "numbers":
      return Array.from(partition.values);
    case "pairs": {
      const { values } = partition;
      if (typeof values === "number") {
        return decodeKeyColumnWith(partition.keys, (key): [string, number] => [key, values]);
      }
      return decodeKeyColumnWith(partition.keys, (key, row): [string, number] => [
        key,
        values[row] as number,
      ]);
    }
  }
}

/**
 * The value column of a `pairs` partition (written out when every row has the same value).
 *
 * @example
 * pairValues({ kind: "pairs", keys, values: 1 }); // Float64Array of ones
 */
export function pairValues(partition: Extract<ColumnarPartition, { kind: "pairs" }>): Float64Array {
  const { values } = partition;
  if (typeof values !== "number") return values;
  return new Float64Array(partition.keys.offsets.length - 1).fill(values);
}

/**
 * A batch from partitions that are either all columns (a columnar batch) or all JS records.
 *
 * @example
 * batchOf<string>(1000, [{ kind: "text", keys }]); // a ColumnarBatch
 */
export function batchOf<T>(
  time: number,
  partitions: ReadonlyArray<ColumnarPartition | ReadonlyArray<unknown>>,
): Batch<T> {
  if (partitions.every((partition) => !Array.isArray(partition))) {
    return new ColumnarBatch<T>(time, partitions as ColumnarPartition[]);
  }
  return { time, partitions: partitions as T[][] };
}
