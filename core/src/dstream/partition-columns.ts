import { SluiceError } from "../errors/sluice-error.js";
import { keyColumnFromStrings } from "../kernels/key-column.js";
import { type ColumnarPartition, pairValues } from "./columnar-batch.js";

/**
 * Strings as UTF-8 rows back to back: row `i` is `bytes.subarray(offsets[i], offsets[i + 1])`
 * (`offsets` holds `rows + 1` positions, from 0 to `bytes.length`). A string is encoded as
 * `TextEncoder` would encode it.
 */
export interface Utf8Rows {
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
}

/** One partition of a `DStream<string>` as columns (`mapTextColumns`). */
export interface TextColumns {
  readonly rows: number;
  readonly text: Utf8Rows;
}

/** One partition of a `DStream<[string, number]>` as columns (`mapPairColumns`). */
export interface PairColumns {
  readonly rows: number;
  readonly keys: Utf8Rows;
  /** Row `i`'s value. */
  readonly values: Float64Array;
}

/** One partition of a `DStream<number>` as a column (`mapNumberColumns`). */
export interface NumberColumns {
  readonly rows: number;
  readonly values: Float64Array;
}

/** The column views by kind: what `mapTextColumns`, `mapPairColumns`, `mapNumberColumns` read. */
export interface ColumnsOfKind {
  readonly text: TextColumns;
  readonly pairs: PairColumns;
  readonly numbers: NumberColumns;
}

export type ColumnsKind = keyof ColumnsOfKind;

/**
 * The view of a columnar partition of `kind`, or `undefined` when the partition holds another
 * kind (its records are then read as JS values and encoded, `columnsOfRecords`).
 *
 * @example
 * columnsView({ kind: "numbers", values: Float64Array.of(1) }, "numbers"); // { rows: 1, values }
 */
export function columnsView<K extends ColumnsKind>(
  partition: ColumnarPartition,
  kind: K,
): ColumnsOfKind[K] | undefined {
  if (partition.kind !== kind) return undefined;
  switch (partition.kind) {
    case "text":
      return {
        rows: partition.keys.offsets.length - 1,
        text: utf8Rows(partition.keys.keys, partition.keys.offsets),
      } satisfies TextColumns as ColumnsOfKind[K];
    case "pairs":
      return {
        rows: partition.keys.offsets.length - 1,
        keys: utf8Rows(partition.keys.keys, partition.keys.offsets),
        values: pairValues(partition),
      } satisfies PairColumns as ColumnsOfKind[K];
    case "numbers":
      return {
        rows: partition.values.length,
        values: partition.values,
      } satisfies NumberColumns as ColumnsOfKind[K];
    default:
      return undefined;
  }
}

// `bytes` ends where the last row does (a parser's buffer may hold more after it).
function utf8Rows(bytes: Uint8Array, offsets: Uint32Array): Utf8Rows {
  const end = offsets[offsets.length - 1] ?? 0;
  return { bytes: bytes.length === end ? bytes : bytes.subarray(0, end), offsets };
}

/**
 * JS records of a partition encoded into the columns of `kind`. A record of another type is a
 * `SLUICE_INVALID_RECORD` naming the operator, the partition and the row.
 *
 * @example
 * columnsOfRecords([["a", 1]], "pairs", "mapPairColumns", 0); // { rows: 1, keys, values: [1] }
 */
export function columnsOfRecords<K extends ColumnsKind>(
  records: ReadonlyArray<unknown>,
  kind: K,
  operator: string,
  partitionIndex: number,
): ColumnsOfKind[K] {
  const rows = records.length;
  const invalid = (row: number, expected: string) =>
    new SluiceError(
      "SLUICE_INVALID_RECORD",
      `${operator}: record ${row} of partition ${partitionIndex} is ${describe(records[row])}, not ${expected}; map the stream to that type first`,
    );
  if (kind === "numbers") {
    const values = new Float64Array(rows);
    for (let row = 0; row < rows; row++) {
      const value = records[row];
      if (typeof value !== "number") throw invalid(row, "a number");
      values[row] = value;
    }
    return { rows, values } satisfies NumberColumns as ColumnsOfKind[K];
  }
  if (kind === "text") {
    for (let row = 0; row < rows; row++) {
      if (typeof records[row] !== "string") throw invalid(row, "a string");
    }
    const column = keyColumnFromStrings(records as readonly string[]);
    return {
      rows,
      text: utf8Rows(column.keys, column.offsets),
    } satisfies TextColumns as ColumnsOfKind[K];
  }
  const keys = new Array<string>(rows);
  const values = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    const pair = records[row];
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== "string" ||
      typeof pair[1] !== "number"
    ) {
      throw invalid(row, "a [string, number] pair");
    }
    keys[row] = pair[0];
    values[row] = pair[1];
  }
  const column = keyColumnFromStrings(keys);
  return {
    rows,
    keys: utf8Rows(column.keys, column.offsets),
    values,
  } satisfies PairColumns as ColumnsOfKind[K];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const types = value.map((item: unknown) => (item === null ? "null" : typeof item));
    return value.length <= 3 ? `a [${types.join(", ")}] array` : `an array of ${value.length}`;
  }
  return `a ${typeof value}`;
}
