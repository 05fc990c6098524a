import type { Batch } from "./batch.js";
import { writeBatchDirectory } from "./batch-directory.js";
import { encodeObjectPart } from "./object-file-format.js";

/**
 * Writes a batch as an object-file directory: one `part-NNNNN` object file per partition (its
 * records serialized with `v8.serialize`, each framed with its length and CRC-32) and an empty
 * `_SUCCESS`, renamed into place as `saveAsTextFiles` does. A record that cannot be serialized
 * fails with `SLUICE_INVALID_RECORD` before anything is written.
 *
 * @example
 * await saveBatchAsObjects(batch, "/data/counts-1000"); // read back with readObjectFiles
 */
export async function saveBatchAsObjects(batch: Batch<unknown>, directory: string): Promise<void> {
  await writeBatchDirectory(batch, directory, "saveAsObjectFiles", (records, partition) =>
    encodeObjectPart(records, { operation: "saveAsObjectFiles", time: batch.time, partition }),
  );
}
