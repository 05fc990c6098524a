import { isAscii } from "node:buffer";
import type { SourceRecordColumns } from "../connector/record-columns.js";
import type { SourceRecord } from "../connector/records.js";
import type { Batch } from "../dstream/batch.js";
import { columnsOf } from "../dstream/columnar-batch.js";
import type { DStream } from "../dstream/dstream.js";

type LineStream = DStream<string>;

/**
 * Options of `textFileStream`, the `file` source in `lines` mode read as strings (one partition
 * per file).
 *
 * @example
 * const options: TextFileStreamOptions = { newFilesOnly: false, filter: (name) => name.endsWith(".log") };
 */
export interface TextFileStreamOptions {
  /**
   * Skip the files already in the directory when the job first starts (default true: the file
   * source's `startAt: "latest"`); false reads them too (`startAt: "earliest"`).
   */
  readonly newFilesOnly?: boolean;
  /**
   * Keeps only the lines of the files whose name it accepts. The file source never reads hidden
   * (`.name`), marker (`_name`) or temporary (`*.tmp`, `*.part`, ...) files; the files this
   * refuses are still read, and their lines dropped.
   */
  readonly filter?: (fileName: string) => boolean;
  /** How often the directory is listed when no change notification arrives (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** The source's id in logs, errors and the checkpoint (default `source:file#<n>`). */
  readonly id?: string;
}

// Lines are decoded as they were read: invalid UTF-8 becomes U+FFFD, and a byte order mark stays
// a character of its line (TextDecoder would drop it from the start of every line).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The text of a line read by a line-oriented source (`socket`, `file` in `lines` mode).
 *
 * @example
 * lineText({ value: new TextEncoder().encode("hello"), headers: {}, timestampMs: 0, partition: "a.txt", offset: "6" }); // "hello"
 */
export function lineText(record: SourceRecord): string {
  return decoder.decode(record.value);
}

/**
 * The text of every line of a batch of a line-oriented source, partition by partition, as
 * `lineText` gives it: a byte batch of ASCII lines is decoded in one pass (no record object per
 * line), anything else line by line.
 *
 * @example
 * const texts = lineTexts(batch); // [["first line", "second line"], []]
 */
export function lineTexts(batch: Batch<SourceRecord>): string[][] {
  const columns = columnsOf(batch, "records");
  if (columns === undefined) return batch.partitions.map((partition) => partition.map(lineText));
  return columns.map(({ pieces }) => pieces.flatMap(piecesLines));
}

function piecesLines(piece: SourceRecordColumns): string[] {
  const { bytes, valueOffsets } = piece;
  const used = bytes.subarray(valueOffsets[0], valueOffsets[piece.length]);
  if (!isAscii(used)) return piece.records().map(lineText);
  const text = Buffer.from(used.buffer, used.byteOffset, used.byteLength).toString("latin1");
  const start = valueOffsets[0] as number;
  const lines = new Array<string>(piece.length);
  for (let row = 0; row < lines.length; row++) {
    lines[row] = text.slice(
      (valueOffsets[row] as number) - start,
      (valueOffsets[row + 1] as number) - start,
    );
  }
  return lines;
}

/** What `textFileLines` needs of a context: `ctx.source`. */
export interface SourceOpener {
  source(
    source: "file",
    config: Record<string, unknown>,
    options: { readonly id?: string },
  ): DStream<SourceRecord>;
}

/**
 * `textFileStream`: the `file` source in `lines` mode (`startAt` from `newFilesOnly`), its lines
 * decoded to strings and grouped one partition per file, in name order. Lines, offsets, the
 * checkpoint and flow control are the source's, so the stream recovers as the source does.
 *
 * @example
 * const lines = textFileLines(ctx, "/data/incoming", { newFilesOnly: false });
 */
export function textFileLines(
  context: SourceOpener,
  directory: string,
  options: TextFileStreamOptions = {},
): LineStream {
  const { newFilesOnly, filter, pollIntervalMs, id } = options;
  const records = context.source(
    "file",
    {
      directory,
      format: "lines",
      startAt: newFilesOnly === false ? "earliest" : "latest",
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    },
    id === undefined ? {} : { id },
  );
  return records.transform((batch) => ({ partitions: linesByFile(batch, filter) }));
}

/**
 * A batch of file-source records as lines, one partition per file in name order (so a batch does
 * not depend on the order the source happened to read its files in), keeping only the files
 * `accept` takes.
 *
 * @example
 * linesByFile(batch); // [["a1", "a2"], ["b1"]] for a.txt and b.txt
 */
export function linesByFile(
  batch: Batch<SourceRecord>,
  accept?: (fileName: string) => boolean,
): string[][] {
  const byFile = new Map<string, string[]>();
  const refused = new Set<string>();
  for (const records of batch.partitions) {
    for (const record of records) {
      let lines = byFile.get(record.partition);
      if (lines === undefined) {
        if (refused.has(record.partition)) continue;
        if (accept !== undefined && !accept(record.partition)) {
          refused.add(record.partition);
          continue;
        }
        lines = [];
        byFile.set(record.partition, lines);
      }
      lines.push(lineText(record));
    }
  }
  const names = [...byFile.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => byFile.get(name) as string[]);
}
