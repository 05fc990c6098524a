import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import { formatRecord } from "../util/format-record.js";
import type { Batch } from "./batch.js";

/**
 * Writes a batch as a Hadoop-style text output directory: `part-00000`, `part-00001`, ... (one
 * record per line) and an empty `_SUCCESS`. It is written beside the target and renamed into
 * place, so readers never see half a directory and a replayed batch replaces the old one.
 *
 * @example
 * await saveBatchAsText(batch, "/data/counts-1000");
 */
export async function saveBatchAsText(batch: Batch<unknown>, directory: string): Promise<void> {
  const staging = join(dirname(directory), `.${basename(directory)}.${process.pid}.tmp`);
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await Promise.all(
      batch.partitions.map((partition, index) => {
        const text = partition.map((record) => `${formatRecord(record)}\n`).join("");
        return writeFile(join(staging, `part-${String(index).padStart(5, "0")}`), text);
      }),
    );
    await writeFile(join(staging, "_SUCCESS"), "");
    await rm(directory, { recursive: true, force: true });
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw new SluiceError(
      "SLUICE_JOB_FAILED",
      `saveAsTextFiles: could not write the batch at ${batch.time} ms to ${directory}: ${String(error)}`,
      { cause: error },
    );
  }
}
