import type { Batch } from "./batch.js";
import { batchOf, type ColumnarPartition, materialise } from "./columnar-batch.js";
import type { RecordSink } from "./record-step.js";

/** Up to this many UTF-16 units, copying an ASCII key in JavaScript beats a native call. */
const SHORT_KEY = 24;

/** One partition's `[string, number]` pairs as a UTF-8 key column and a value column, grown as needed. */
class PairColumnBuilder {
  private bytes: Buffer = Buffer.allocUnsafeSlow(1 << 16);
  private offsets = new Uint32Array(1 << 12);
  private values = new Float64Array(1 << 12);
  private position = 0;
  rows = 0;

  /** Appends a pair; false (and nothing appended) when the key is not well-formed UTF-16. */
  add(key: string, value: number): boolean {
    const row = this.rows;
    if (row + 1 >= this.offsets.length) this.growRows();
    let position = this.position;
    if (position + key.length * 3 > this.bytes.length) this.growBytes(key.length * 3);
    const bytes = this.bytes;
    let ascii = key.length <= SHORT_KEY;
    if (ascii) {
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i);
        if (code >= 0x80) {
          ascii = false;
          break;
        }
        bytes[position + i] = code;
      }
    }
    if (ascii) {
      position += key.length;
    } else {
      // A lone surrogate encodes as U+FFFD: two different keys could share bytes.
      if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) return false;
      position += bytes.write(key, position, "utf8");
    }
    this.position = position;
    this.values[row] = value;
    this.rows = row + 1;
    this.offsets[row + 1] = position;
    return true;
  }

  /** The column (a view of the builder's memory). */
  finish(): Extract<ColumnarPartition, { kind: "pairs" }> {
    const rows = this.rows;
    return {
      kind: "pairs",
      keys: {
        keys: new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.position),
        offsets: this.offsets.subarray(0, rows + 1),
      },
      values: this.values.subarray(0, rows),
    };
  }

  private growRows(): void {
    const offsets = new Uint32Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  private growBytes(atLeast: number): void {
    // Not from the shared pool: the column outlives this call.
    const bytes = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.position + atLeast));
    this.bytes.copy(bytes, 0, 0, this.position);
    this.bytes = bytes;
  }
}

/** One partition being collected: pairs kept as they are, then (from the switch) columns. */
interface PartitionPairs {
  rows: unknown[];
  columns: PairColumnBuilder | undefined;
}

const ROWS = 0;
const COLUMNS = 1;
const ROWS_ONLY = 2;

/**
 * The end of a fused loop whose pairs a named reduction reads: pairs go straight into a UTF-8
 * key column and a value column as the loop makes them, instead of an array of `[k, v]` arrays
 * that the reduction would then copy into the same columns. The batch is columns only where the
 * reduction's map side would have taken the kernels over the pairs anyway: every pair an array
 * of a well-formed string and a number, and at least `columnsFrom` of them in the batch. Until
 * that many, pairs are kept as they come (and encoded at the switch); at the first other pair
 * every partition goes back to JS pairs, so the reduction sees exactly what it saw before (and
 * fails the same way on a value that is not a number). Columns decode into the same pairs if
 * anything reads them.
 *
 * @example
 * const columns = new FusedPairColumns(2048);
 * for (const records of batch.partitions) {
 *   const push = columns.startPartition();
 *   for (const pair of records) push(pair);
 * }
 * columns.finish(time); // a ColumnarBatch of pairs, or a batch of JS pairs
 */
export class FusedPairColumns {
  private readonly partitions: PartitionPairs[] = [];
  private mode = ROWS;
  private total = 0;

  constructor(private readonly columnsFrom: number) {}

  /** Starts the next partition; returns the sink its loop pushes pairs into. */
  startPartition(): RecordSink<unknown> {
    const partition: PartitionPairs = {
      rows: [],
      columns: this.mode === COLUMNS ? new PairColumnBuilder() : undefined,
    };
    this.partitions.push(partition);
    return (pair) => {
      const columns = partition.columns;
      if (
        columns !== undefined &&
        Array.isArray(pair) &&
        typeof pair[0] === "string" &&
        typeof pair[1] === "number" &&
        columns.add(pair[0], pair[1])
      ) {
        return;
      }
      this.pushSlowly(partition, pair);
    };
  }

  /** The batch: columns for every partition, or JS pairs for every partition. */
  finish<T>(time: number): Batch<T> {
    const partitions = this.finishPartitions();
    return this.mode === COLUMNS
      ? batchOf<T>(time, partitions)
      : { time, partitions: partitions as T[][] };
  }

  /** Every partition: all of them columns, or all of them JS pairs. */
  finishPartitions(): (ColumnarPartition | unknown[])[] {
    if (this.mode === COLUMNS) {
      return this.partitions.map((partition) => (partition.columns as PairColumnBuilder).finish());
    }
    return this.partitions.map((partition) => partition.rows);
  }

  private pushSlowly(partition: PartitionPairs, pair: unknown): void {
    if (this.mode === COLUMNS) this.backToRows();
    partition.rows.push(pair);
    if (this.mode === ROWS_ONLY) return;
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "number") {
      this.mode = ROWS_ONLY;
      return;
    }
    this.total++;
    if (this.total >= this.columnsFrom) this.toColumns();
  }

  /** Every pair so far into columns; from now on pairs go to columns. */
  private toColumns(): void {
    const built: PairColumnBuilder[] = [];
    for (const partition of this.partitions) {
      const columns = new PairColumnBuilder();
      for (const pair of partition.rows as [string, number][]) {
        if (!columns.add(pair[0], pair[1])) {
          this.mode = ROWS_ONLY;
          return;
        }
      }
      built.push(columns);
    }
    this.partitions.forEach((partition, index) => {
      partition.columns = built[index];
      partition.rows = [];
    });
    this.mode = COLUMNS;
  }

  /** Every partition's columns back into JS pairs (a pair the columns cannot hold came). */
  private backToRows(): void {
    for (const partition of this.partitions) {
      const columns = partition.columns;
      if (columns === undefined) continue;
      partition.rows = materialise(columns.finish());
      partition.columns = undefined;
    }
    this.mode = ROWS_ONLY;
  }
}
