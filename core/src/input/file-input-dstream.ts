import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { StreamingContext } from "../context/streaming-context.js";
import type { Batch } from "../dstream/batch.js";
import { splitLines } from "../util/text-lines.js";
import { InputDStream } from "./input-dstream.js";

/** Options of `textFileStream`. */
export interface TextFileStreamOptions {
  /** Also read the files already in the directory at start (default false: new files only). */
  readonly newFilesOnly?: boolean;
  /** Accepts a file name; by default every name not starting with `.` is accepted. */
  readonly filter?: (fileName: string) => boolean;
}

/**
 * Lines of the new files of a directory (Spark's `FileInputDStream` behind `textFileStream`): at
 * each batch tick, every file that appeared since the previous tick is read, one partition per
 * file, one record per line. Files must be moved (renamed) into the directory complete, as with
 * Spark; names starting with `.` are ignored, so writing to `.name` and renaming works. Sluice
 * tells new files by name, not by modification time, so it works on any clock.
 *
 * @example
 * const lines = ctx.textFileStream("/data/incoming");
 */
export class FileInputDStream extends InputDStream<string> {
  private readonly seen = new Set<string>();
  private readonly newFilesOnly: boolean;
  private readonly accept: (fileName: string) => boolean;

  constructor(
    context: StreamingContext,
    private readonly directory: string,
    options: TextFileStreamOptions = {},
  ) {
    super(context);
    this.newFilesOnly = options.newFilesOnly ?? true;
    this.accept = options.filter ?? ((fileName) => !fileName.startsWith("."));
  }

  override async start(): Promise<void> {
    if (!this.newFilesOnly) return;
    for (const name of (await this.listFiles()) ?? []) this.seen.add(name);
  }

  protected async computeInput(time: number): Promise<Batch<string>> {
    const names = await this.listFiles();
    if (names === undefined) return { time, partitions: [] };
    // Forget names that left the directory, so the set stays as small as the directory.
    const present = new Set(names);
    for (const name of this.seen) if (!present.has(name)) this.seen.delete(name);
    const fresh = names.filter((name) => !this.seen.has(name) && this.accept(name)).sort();
    const partitions: string[][] = [];
    for (const name of fresh) {
      this.seen.add(name);
      try {
        partitions.push(splitLines(await readFile(join(this.directory, name), "utf8")));
      } catch (error) {
        process.emitWarning(
          `textFileStream: could not read ${join(this.directory, name)}: ${String(error)}`,
          {
            code: "SLUICE_INPUT_FAILED",
          },
        );
      }
    }
    return { time, partitions };
  }

  /** The regular files of the directory, or `undefined` (with a warning) when it cannot be listed. */
  private async listFiles(): Promise<string[] | undefined> {
    try {
      const entries = await readdir(this.directory, { withFileTypes: true });
      return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
    } catch (error) {
      // Spark logs a listing failure and finds no new files; the next tick tries again.
      process.emitWarning(`textFileStream: could not list ${this.directory}: ${String(error)}`, {
        code: "SLUICE_INPUT_FAILED",
      });
      return undefined;
    }
  }
}
