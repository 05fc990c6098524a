import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import { partFileName } from "./batch-directory.js";
import { decodeObjectPart } from "./object-file-format.js";

const PART = /^part-(\d{5,})$/;

/**
 * The records of one batch directory written by `saveAsObjectFiles`, partition after partition
 * (Spark's `sc.objectFile`). A directory without `_SUCCESS` (not completely written) or with a
 * missing part fails with `SLUICE_INVALID_ARGUMENT`; a truncated or damaged part with
 * `SLUICE_INVALID_RECORD`; both name the directory or file.
 *
 * @example
 * const counts = await readObjectFiles<[string, number]>("/data/counts-1000");
 */
export async function readObjectFiles<T = unknown>(directory: string): Promise<T[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `readObjectFiles: cannot list ${directory} (${error instanceof Error ? error.message : String(error)}); give the directory of one batch saveAsObjectFiles wrote (prefix-<time>[-writer][.suffix])`,
      { cause: error },
    );
  }
  if (!names.includes("_SUCCESS")) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `readObjectFiles: ${join(directory, "_SUCCESS")} is missing, so the batch was not completely written (or the directory is not one saveAsObjectFiles wrote); read a directory that has it`,
    );
  }
  const partitions: number[] = [];
  for (const name of names) {
    const match = PART.exec(name);
    if (match !== null) partitions.push(Number(match[1]));
  }
  partitions.sort((a, b) => a - b);
  partitions.forEach((partition, index) => {
    if (partition !== index) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `readObjectFiles: ${join(directory, partFileName(index))} is missing (the directory has ${partFileName(partition)} after it): the batch directory was damaged`,
      );
    }
  });
  const records: T[] = [];
  for (const partition of partitions) {
    const file = join(directory, partFileName(partition));
    for (const record of decodeObjectPart(await readFile(file), file)) records.push(record as T);
  }
  return records;
}
