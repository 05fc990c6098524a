import { mkdir, open, readdir, rename, rm, writeFile } from "node:fs/promises";
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
 * files are written into a staging directory beside the target, flushed to disk, and renamed
 * into place, so readers never see half a directory and a replayed batch replaces the old one.
 * A directory written before is moved aside first and removed only once the new one is in
 * place (put back if that fails). Staging and moved-aside directories a killed writer left for
 * the same target are removed by the next write of it. A `SluiceError` from `encode` keeps its
 * code; anything else fails with `SLUICE_JOB_FAILED` naming `operation`.
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
  const parent = dirname(directory);
  const name = basename(directory);
  const staging = join(parent, `.${name}.${process.pid}.tmp`);
  const previous = join(parent, `.${name}.${process.pid}.old`);
  try {
    const parts = batch.partitions.map((records, partition) => encode(records, partition));
    await removeLeftovers(parent, name);
    await mkdir(staging, { recursive: true });
    await Promise.all(
      parts.map((content, index) => writeDurably(join(staging, partFileName(index)), content)),
    );
    await writeDurably(join(staging, "_SUCCESS"), "");
    await syncDirectory(staging);
    const replacing = await moveAside(directory, previous);
    try {
      await rename(staging, directory);
    } catch (error) {
      if (replacing) await rename(previous, directory).catch(() => undefined);
      throw error;
    }
    await syncDirectory(parent);
    if (replacing) await rm(previous, { recursive: true, force: true });
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

// The staging (`.tmp`) and moved-aside (`.old`) directories of `name` that writers killed
// mid-write left, whatever their process id: only one writer writes a given batch directory.
async function removeLeftovers(parent: string, name: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const prefix = `.${name}.`;
  const leftovers = names.filter(
    (entry) => entry.startsWith(prefix) && /^\d+\.(tmp|old)$/.test(entry.slice(prefix.length)),
  );
  await Promise.all(
    leftovers.map((entry) => rm(join(parent, entry), { recursive: true, force: true })),
  );
}

// Renames the directory written before out of the way; false when there is none.
async function moveAside(directory: string, aside: string): Promise<boolean> {
  try {
    await rename(directory, aside);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

// Written, then flushed to disk: a rename must not publish a file whose bytes a crash loses.
async function writeDurably(path: string, content: string | Uint8Array): Promise<void> {
  await writeFile(path, content);
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Flushes a directory's entries (the files in it, a rename into it). Not every platform can
// open a directory to sync it; there the rename is as durable as the platform makes it.
async function syncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms that refuse it.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
