import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import type { Batch } from "./batch.js";

/** Turns one partition's records into the content of its `part-NNNNN` file. */
export type PartitionEncoder<T> = (
  records: ReadonlyArray<T>,
  partition: number,
) => string | Uint8Array;

/**
 * Writes a batch as a Hadoop-style output directory: `part-00000`, `part-00001`, ... (one file
 * per partition, its content from `encode`) and an empty `_SUCCESS`. Every partition is encoded
 * before anything is written, so a record that cannot be encoded leaves nothing on disk; the
 * files are written into a staging directory beside the target and renamed into place, so readers
 * never see half a directory and a replayed batch replaces the old one. A `SluiceError` from
 * `encode` keeps its code; anything else fails with `SLUICE_JOB_FAILED` naming `operation`.
 *
 * @example
 * await writeBatchDirectory(batch, "/data/counts-1000", "saveAsTextFiles", (records) => records.join("\n"));
 */
export async function writeBatchDirectory<T>(
  batch: Batch<T>,
  directory: string,
  operation: string,
  encode: PartitionEncoder<T>,
): Promise<void> {
  const staging = join(dirname(directory), `.${basename(directory)}.${process.pid}.tmp`);
  try {
    const parts = batch.partitions.map((records, partition) => encode(records, partition));
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await Promise.all(
      parts.map((content, index) => writeFile(join(staging, partFileName(index)), content)),
    );
    await writeFile(join(staging, "_SUCCESS"), "");
    await rm(directory, { recursive: true, force: true });
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof SluiceError) throw error;
    throw new SluiceError(
      "SLUICE_JOB_FAILED",
      `${operation}: could not write the batch at ${batch.time} ms to ${directory}: ${String(error)}`,
      { cause: error },
    );
  }
}

/**
 * The file name of a partition in a batch directory, as Hadoop names it.
 *
 * @example
 * partFileName(3); // "part-00003"
 */
export function partFileName(partition: number): string {
  return `part-${String(partition).padStart(5, "0")}`;
}
