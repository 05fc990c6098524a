import type { SourceRecordColumns } from "../connector/record-columns.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { Kernels, KeyColumn, ParsedColumn, ParsedNumbers } from "../kernels/kernels.js";
import {
  concatKeyColumns,
  gatherRows,
  keyColumnFromBuffers,
  keyColumnFromStrings,
  validRowNumbers,
} from "../kernels/key-column.js";
import type { Batch } from "./batch.js";
import type { ByteParser, TextRecord } from "./byte-parser.js";
import { ColumnarBatch, type ColumnarPartition, columnsOf, materialise } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import { kernelCalls, SYNC_CALL_BELOW_BYTES } from "./kernel-calls.js";
import { OneParentDStream } from "./one-parent-dstream.js";

/**
 * `lines()`, `words()`, `csvColumn(i)`, `jsonStringField(name)`, `jsonNumberField(name)`: the
 * kernels' byte parsers over each partition's records at once (their bytes back to back, one
 * kernel call), giving a columnar batch. A declarative operation next (`countByValue`,
 * `reduceByKey("sum")` after `countByValue`'s pairing, another parser) reads the columns; a
 * lambda reads JS values, decoded once. Records where a CSV field or JSON member is missing or
 * malformed give no row.
 *
 * @example
 * ctx.source("kafka", config).words().countByValue(); // a ByteParsedDStream, then the count
 */
export class ByteParsedDStream<T extends string | number> extends OneParentDStream<TextRecord, T> {
  constructor(
    parent: DStream<TextRecord>,
    readonly parser: ByteParser,
  ) {
    super(parent);
  }

  override get operatorName(): string {
    return `ByteParsedDStream(${this.parser.kind})`;
  }

  protected async compute(time: number): Promise<Batch<T> | undefined> {
    const batch = await this.parentBatch(time);
    if (batch === undefined) return undefined;
    const kernels = this.scope.kernels;
    // The partitions on the native module's threads, as many at once as the job has cores.
    const parsed = await kernelCalls(this.scope, this.inputColumns(batch), async (values) =>
      values.keys.byteLength < SYNC_CALL_BELOW_BYTES
        ? parsePartition(kernels, this.parser, values)
        : parsePartitionAsync(kernels, this.parser, values),
    );
    return new ColumnarBatch<T>(time, parsed);
  }

  /**
   * What the parser reads of each partition of `batch`: text from another parser is already a
   * column (no string is made in between), other records are packed into one.
   *
   * @example
   * words.inputColumns(await words.parent.getOrCompute(time));
   */
  inputColumns(batch: Batch<TextRecord>): KeyColumn[] {
    const text = columnsOf(batch, "text");
    if (text !== undefined) return text.map((partition) => partition.keys);
    // Byte batches from a source: their values are read in place (one blob per piece).
    const records = columnsOf(batch, "records");
    if (records !== undefined) {
      return records.map(({ pieces }) =>
        pieces.length === 1
          ? (pieces[0] as SourceRecordColumns).values
          : concatKeyColumns(pieces.map((piece) => piece.values)),
      );
    }
    return batch.partitions.map((records) => this.columnOf(records));
  }

  /**
   * What the parser reads of each partition of `batch`, as pieces in row order to count one
   * after the other (`countParsedPartitions`): strings a few thousand at a time, each piece
   * encoded only when its turn comes, so that encoding one piece can overlap counting the one
   * before; a source's byte batches in runs of about a mebibyte, read in place when a run is one
   * batch; text from another parser as it is.
   *
   * @example
   * words.inputPieces(await words.parent.getOrCompute(time)); // per partition: pieces to count
   */
  inputPieces(batch: Batch<TextRecord>): CountPieces[] {
    const text = columnsOf(batch, "text");
    if (text !== undefined) return text.map((partition) => [partition.keys]);
    const records = columnsOf(batch, "records");
    if (records !== undefined) {
      return records.map(({ pieces }) => recordRuns(pieces.map((piece) => piece.values)));
    }
    return batch.partitions.map((partition): CountPieces => {
      if (!partition.every((record) => typeof record === "string")) {
        return [() => this.columnOf(partition)];
      }
      const strings = partition as ReadonlyArray<string>;
      const pieces: Array<() => KeyColumn> = [];
      for (let from = 0; from < strings.length; from += STRING_PIECE_ROWS) {
        const to = Math.min(strings.length, from + STRING_PIECE_ROWS);
        pieces.push(() => keyColumnFromStrings(strings.slice(from, to)));
      }
      return pieces.length === 0 ? [() => keyColumnFromStrings([])] : pieces;
    });
  }

  /** The records of one partition parsed (on an executor, or where a batch is not columnar). */
  applyToPartition(records: ReadonlyArray<TextRecord>): T[] {
    return materialise(
      parsePartition(this.scope.kernels, this.parser, this.columnOf(records)),
    ) as T[];
  }

  /**
   * The records' bytes back to back (one copy each; strings encoded as UTF-8): what the parser
   * reads of one partition.
   *
   * @example
   * words.columnOf(["a b", "c"]); // keys "a bc", offsets [0, 3, 4]
   */
  columnOf(records: ReadonlyArray<TextRecord>): KeyColumn {
    // Lines held as strings: encoded in one pass, not one encoder call per line.
    if (records.every((record) => typeof record === "string")) {
      return keyColumnFromStrings(records as ReadonlyArray<string>);
    }
    const values = new Array<Uint8Array>(records.length);
    for (let row = 0; row < records.length; row++) {
      const record = records[row];
      if (record instanceof Uint8Array) values[row] = record;
      else if (typeof record === "string") values[row] = encoder.encode(record);
      else if (
        typeof record === "object" &&
        record !== null &&
        (record as { value?: unknown }).value instanceof Uint8Array
      ) {
        values[row] = record.value;
      } else {
        throw new SluiceError(
          "SLUICE_INVALID_RECORD",
          `${this.parser.kind}: record ${row} of a partition is ${describe(record)}; the byte parsers read source records (their value), Uint8Arrays or strings — map other records to one of those first`,
        );
      }
    }
    return keyColumnFromBuffers(values);
  }
}

const encoder = new TextEncoder();

/** One partition's input to a count: pieces in row order, columns or made when their turn comes. */
export type CountPieces = ReadonlyArray<KeyColumn | (() => KeyColumn)>;

/**
 * Strings encoded per piece. Every piece costs a hop to the libuv pool and back, and the next
 * piece's count starts only once the main thread has taken that hop's result, which on two cores
 * shared by the main thread and two pool threads waits for the main thread to get a core: with
 * 8192 rows per piece (7 pieces per 50k-line partition) the waits added 2–3 ms to a 25 ms batch
 * (W1 columnar at local[2], better in 7 of 7 alternating rounds with 65536; 500k-line batches
 * and the window run within their noise). Encoding a piece costs a tenth of counting it, so the
 * first count still starts early.
 */
const STRING_PIECE_ROWS = 65536;

/** Bytes of a source's byte batches gathered into one piece (read in place when one batch). */
const RECORD_RUN_BYTES = 1 << 20;

/**
 * A source's byte batches as pieces of at least `RECORD_RUN_BYTES` (the last may be smaller),
 * in order: a run of one batch is that batch's column, a longer run is joined when made.
 *
 * @example
 * recordRuns(pieces.map((piece) => piece.values)); // a few pieces of a mebibyte or more
 */
export function recordRuns(values: readonly KeyColumn[]): CountPieces {
  const runs: Array<KeyColumn | (() => KeyColumn)> = [];
  let run: KeyColumn[] = [];
  let bytes = 0;
  const close = () => {
    const parts = run;
    runs.push(parts.length === 1 ? (parts[0] as KeyColumn) : () => concatKeyColumns(parts));
    run = [];
    bytes = 0;
  };
  for (const column of values) {
    run.push(column);
    bytes += column.keys.byteLength;
    if (bytes >= RECORD_RUN_BYTES) close();
  }
  if (run.length > 0 || runs.length === 0) close();
  return runs;
}

/**
 * Runs the parser's kernel over one partition's values and keeps the valid rows.
 *
 * @example
 * parsePartition(kernels, { kind: "words" }, keyColumnFromStrings(["a b"])); // text "a", "b"
 */
export function parsePartition(
  kernels: Kernels,
  parser: ByteParser,
  values: KeyColumn,
): ColumnarPartition {
  switch (parser.kind) {
    case "lines":
      return { kind: "text", keys: kernels.splitLines(values) };
    case "words":
      return { kind: "text", keys: kernels.splitWords(values) };
    case "csvColumn":
      return {
        kind: "text",
        keys: validRows(kernels.csvColumn(values, parser.index, parser.delimiter)),
      };
    case "jsonStringField":
      return { kind: "text", keys: validRows(kernels.jsonStringField(values, parser.field)) };
    case "jsonNumberField":
      return numbersPartition(kernels.jsonNumberField(values, parser.field));
  }
}

/**
 * `parsePartition` off the main thread where the kernels can (the libuv pool).
 *
 * @example
 * await parsePartitionAsync(kernels, { kind: "words" }, column);
 */
export async function parsePartitionAsync(
  kernels: Kernels,
  parser: ByteParser,
  values: KeyColumn,
): Promise<ColumnarPartition> {
  switch (parser.kind) {
    case "lines":
      return { kind: "text", keys: await kernels.splitLinesAsync(values) };
    case "words":
      return { kind: "text", keys: await kernels.splitWordsAsync(values) };
    case "csvColumn":
      return {
        kind: "text",
        keys: validRows(await kernels.csvColumnAsync(values, parser.index, parser.delimiter)),
      };
    case "jsonStringField":
      return {
        kind: "text",
        keys: validRows(await kernels.jsonStringFieldAsync(values, parser.field)),
      };
    case "jsonNumberField":
      return numbersPartition(await kernels.jsonNumberFieldAsync(values, parser.field));
  }
}

function numbersPartition(parsed: ParsedNumbers): ColumnarPartition {
  const rows = validRowNumbers(parsed.valid);
  if (rows === undefined) return { kind: "numbers", values: parsed.values };
  const kept = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) kept[i] = parsed.values[rows[i] as number] as number;
  return { kind: "numbers", values: kept };
}

function validRows(parsed: ParsedColumn): KeyColumn {
  const rows = validRowNumbers(parsed.valid);
  const column = { keys: parsed.keys, offsets: parsed.offsets };
  return rows === undefined ? column : gatherRows(column, rows);
}

function describe(record: unknown): string {
  if (record === null) return "null";
  if (Array.isArray(record)) return "an array";
  return typeof record === "object" ? "an object without a Uint8Array value" : `a ${typeof record}`;
}
