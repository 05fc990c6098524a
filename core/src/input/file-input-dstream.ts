import type { SourceRecord } from "../connector/records.js";
import type { DStream } from "../dstream/dstream.js";
import type { Duration } from "../util/duration.js";
import { LineTextDStream } from "./line-text-dstream.js";

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
  /**
   * How often the directory is listed when no change notification arrives: ms or a duration
   * such as `"1s"` (default 1000 ms).
   */
  readonly pollIntervalMs?: Duration;
  /** The source's id in logs, errors and the checkpoint (default `source:file#<n>`). */
  readonly id?: string;
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
  return new LineTextDStream(
    records,
    filter === undefined ? { by: "file" } : { by: "file", accept: filter },
  );
}
