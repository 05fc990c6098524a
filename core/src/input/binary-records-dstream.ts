import type { SourceRecord } from "../connector/records.js";
import type { Batch } from "../dstream/batch.js";
import { columnsOf } from "../dstream/columnar-batch.js";
import type { DStream } from "../dstream/dstream.js";
import { OneParentDStream } from "../dstream/one-parent-dstream.js";
import type { SourceOpener, TextFileStreamOptions } from "./file-input-dstream.js";
import { groupedByFile } from "./line-text-dstream.js";

/**
 * Options of `binaryRecordsStream`: those of `textFileStream` (`filter` keeps only the records
 * of the files whose name it accepts).
 *
 * @example
 * const options: BinaryRecordsStreamOptions = { newFilesOnly: false, pollIntervalMs: 200 };
 */
export type BinaryRecordsStreamOptions = TextFileStreamOptions;

/**
 * `binaryRecordsStream`: the `file` source in `binary` mode (`startAt` from `newFilesOnly`), its
 * records grouped one partition per file, in name order. Records, offsets, the checkpoint and
 * flow control are the source's, so the stream recovers as the source does; the source checks
 * `recordLength` with the rest of its config.
 *
 * @example
 * const records = binaryFileRecords(ctx, "/data/incoming", 16, { newFilesOnly: false });
 */
export function binaryFileRecords(
  context: SourceOpener,
  directory: string,
  recordLength: number,
  options: BinaryRecordsStreamOptions = {},
): DStream<Uint8Array> {
  const { newFilesOnly, filter, pollIntervalMs, id } = options;
  const records = context.source(
    "file",
    {
      directory,
      format: "binary",
      recordLength,
      startAt: newFilesOnly === false ? "earliest" : "latest",
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    },
    id === undefined ? {} : { id },
  );
  return new BinaryRecordsDStream(records, filter);
}

/**
 * The values of the `file` source's binary records, one partition per file in name order (so a
 * batch does not depend on the order the source read its files in). Each record is a view of
 * `recordLength` bytes into the bytes its read took from the file (no copy per record).
 *
 * @example
 * new BinaryRecordsDStream(ctx.source("file", { directory, format: "binary", recordLength: 8 }));
 */
export class BinaryRecordsDStream extends OneParentDStream<SourceRecord, Uint8Array> {
  constructor(
    parent: DStream<SourceRecord>,
    private readonly accept?: (fileName: string) => boolean,
  ) {
    super(parent);
  }

  override get operatorName(): string {
    return "BinaryRecordsDStream";
  }

  protected async compute(time: number): Promise<Batch<Uint8Array> | undefined> {
    const batch = await this.parentBatch(time);
    if (batch === undefined) return undefined;
    const columns = columnsOf(batch, "records");
    if (columns === undefined) {
      // Records the source handed back for redelivery come as records, not columns.
      const byFile = groupedByFile(batch.partitions, (record) => record.partition, this.accept);
      return { time, partitions: byFile.map((records) => records.map((record) => record.value)) };
    }
    const byFile = groupedByFile(
      columns.map((partition) => partition.pieces),
      (piece) => piece.partition,
      this.accept,
    );
    const partitions = byFile.map((pieces) => {
      const values: Uint8Array[] = [];
      for (const piece of pieces) {
        const { keys, offsets } = piece.values;
        for (let row = 0; row < piece.length; row++) {
          values.push(keys.subarray(offsets[row], offsets[row + 1]));
        }
      }
      return values;
    });
    return { time, partitions };
  }
}
