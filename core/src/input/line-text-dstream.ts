import type { SourceRecordColumns } from "../connector/record-columns.js";
import type { SourceRecord } from "../connector/records.js";
import type { Batch } from "../dstream/batch.js";
import { ColumnarBatch, type ColumnarPartition, columnsOf } from "../dstream/columnar-batch.js";
import type { DStream } from "../dstream/dstream.js";
import { OneParentDStream } from "../dstream/one-parent-dstream.js";
import { joinKeyColumns, PiecewiseText } from "../dstream/piecewise-text.js";
import { lineText } from "./line-text.js";

/** How a line stream groups its lines into partitions. */
export type LineGrouping =
  /** As the source partitioned them (`socketTextStream`). */
  | { readonly by: "source" }
  /**
   * One partition per file, in name order, keeping only the files `accept` takes
   * (`textFileStream`), so a batch does not depend on the order the source read its files in.
   */
  | { readonly by: "file"; readonly accept?: (fileName: string) => boolean };

/**
 * The lines of a line-oriented source (`socket`, `file` in `lines` mode) as strings, one record
 * per line, as `lineText` decodes them. A byte batch becomes a columnar batch of text (the
 * source's bytes and where each line ends), decoded into strings only where a function first
 * reads them: on the driver under `local[1]`, on the executors under `local[N]` (the bytes cross
 * as one typed array), and never before a byte parser (`words()`), which reads the bytes.
 *
 * @example
 * new LineTextDStream(ctx.source("socket", { host, port }), { by: "source" }); // DStream<string>
 */
export class LineTextDStream extends OneParentDStream<SourceRecord, string> {
  constructor(
    parent: DStream<SourceRecord>,
    private readonly grouping: LineGrouping,
  ) {
    super(parent);
  }

  override get operatorName(): string {
    return `LineTextDStream(${this.grouping.by})`;
  }

  protected async compute(time: number): Promise<Batch<string> | undefined> {
    const batch = await this.parentBatch(time);
    if (batch === undefined) return undefined;
    return linesOf(batch, this.grouping);
  }
}

/**
 * The lines of a batch of a line-oriented source, grouped as `grouping` says: a columnar batch
 * of text when the source gave byte batches (nothing decoded yet), else the decoded records.
 *
 * @example
 * linesOf(batch, { by: "source" }).partitions; // [["first line", "second line"], []]
 */
export function linesOf(batch: Batch<SourceRecord>, grouping: LineGrouping): Batch<string> {
  const { time } = batch;
  const columns = columnsOf(batch, "records");
  if (columns === undefined) {
    const records =
      grouping.by === "source"
        ? batch.partitions
        : groupedByFile(batch.partitions, (record) => record.partition, grouping.accept);
    const partitions = records.map((ofPartition) => ofPartition.map(lineText));
    return { time, partitions };
  }
  const pieces =
    grouping.by === "source"
      ? columns.map((partition) => partition.pieces)
      : groupedByFile(
          columns.map((partition) => partition.pieces),
          (piece) => piece.partition,
          grouping.accept,
        );
  return new ColumnarBatch<string>(time, pieces.map(textPartition));
}

/**
 * The lines of `pieces` as one text partition: one piece's own column (no copy), or the pieces
 * joined only when something reads them as one column (`PiecewiseText`). A piece whose values
 * do not start its blob (a column starts at offset 0) is copied into one column at once.
 */
function textPartition(pieces: readonly SourceRecordColumns[]): ColumnarPartition {
  const columns = pieces.map((piece) => piece.values);
  if (columns.some((column) => column.offsets[0] !== 0)) {
    return { kind: "text", keys: joinKeyColumns(columns) };
  }
  const only = columns.length === 1 ? columns[0] : undefined;
  if (only !== undefined) return { kind: "text", keys: only };
  if (columns.length === 0) return { kind: "text", keys: joinKeyColumns(columns) };
  return new PiecewiseText(columns);
}

/**
 * The items of every partition regrouped by file (`fileOf`), files in name order, keeping the
 * order of each file's items and only the files `accept` takes.
 *
 * @example
 * groupedByFile([[{ f: "b" }, { f: "a" }]], (item) => item.f, undefined); // [[{ f: "a" }], [{ f: "b" }]]
 */
export function groupedByFile<Item>(
  partitions: ReadonlyArray<ReadonlyArray<Item>>,
  fileOf: (item: Item) => string,
  accept: ((fileName: string) => boolean) | undefined,
): Item[][] {
  const byFile = new Map<string, Item[]>();
  const refused = new Set<string>();
  for (const items of partitions) {
    for (const item of items) {
      const file = fileOf(item);
      let group = byFile.get(file);
      if (group === undefined) {
        if (refused.has(file)) continue;
        if (accept !== undefined && !accept(file)) {
          refused.add(file);
          continue;
        }
        group = [];
        byFile.set(file, group);
      }
      group.push(item);
    }
  }
  const names = [...byFile.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => byFile.get(name) as Item[]);
}
