import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** The newest checkpoint a job wrote: when, and how big. */
export interface CheckpointStatus {
  /** The batch time it holds (the number in its file name). */
  readonly batchTime: number;
  /** When it was written: epoch milliseconds (the file's modification time). */
  readonly writtenAt: number;
  /** Seconds since it was written (wall clock, from the file's modification time). */
  readonly ageSeconds: number;
  readonly sizeBytes: number;
}

// The checkpoint store's file names: `checkpoint-<batch time, 16 digits>.ckpt`.
const CHECKPOINT_FILE = /^checkpoint-(\d{16})\.ckpt$/;

/**
 * Reads the newest checkpoint in `directory`; undefined when none was written yet (or the
 * folder does not exist yet).
 *
 * @example
 * const status = await readCheckpointStatus(ctx.checkpointDirectory ?? "");
 */
export async function readCheckpointStatus(
  directory: string,
  now: () => number = Date.now,
): Promise<CheckpointStatus | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return undefined;
  }
  // Newest first; a file the store removed meanwhile makes way for the one before it.
  const times = names
    .map((name) => CHECKPOINT_FILE.exec(name)?.[1])
    .filter((time) => time !== undefined)
    .sort()
    .reverse();
  for (const time of times) {
    try {
      const file = await stat(join(directory, `checkpoint-${time}.ckpt`));
      return {
        batchTime: Number(time),
        writtenAt: file.mtimeMs,
        ageSeconds: Math.max(0, (now() - file.mtimeMs) / 1000),
        sizeBytes: file.size,
      };
    } catch {
      // Removed between readdir and stat: the store keeps only the newest few.
    }
  }
  return undefined;
}
