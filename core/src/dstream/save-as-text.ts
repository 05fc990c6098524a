import { formatRecord } from "../util/format-record.js";
import type { Batch } from "./batch.js";
import { writeBatchDirectory } from "./batch-directory.js";

/**
 * Writes a batch as a Hadoop-style text output directory: `part-00000`, `part-00001`, ... (one
 * record per line) and an empty `_SUCCESS`. It is written beside the target and renamed into
 * place, so readers never see half a directory and a replayed batch replaces the old one.
 *
 * @example
 * await saveBatchAsText(batch, "/data/counts-1000");
 */
export async function saveBatchAsText(batch: Batch<unknown>, directory: string): Promise<void> {
  await writeBatchDirectory(batch, directory, "saveAsTextFiles", (records) =>
    records.map((record) => `${formatRecord(record)}\n`).join(""),
  );
}
