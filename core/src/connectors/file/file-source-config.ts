import { z } from "zod";

/** The config of the built-in `file` source. */
export const fileSourceConfig = z.strictObject({
  directory: z
    .string()
    .min(1)
    .describe(
      "the folder to watch; writers must move (rename) finished files into it, hidden and *.tmp files are ignored",
    ),
  format: z
    .enum(["lines", "jsonl", "csv"])
    .default("lines")
    .describe(
      '"lines": one record per line; "jsonl": one JSON value per line; "csv": one row per record, as JSON',
    ),
  csv: z
    .strictObject({
      delimiter: z.string().length(1).default(",").describe("one character between fields"),
      header: z
        .boolean()
        .default(true)
        .describe("true: the first row names the columns and each record is a JSON object"),
    })
    .default({ delimiter: ",", header: true }),
  startAt: z
    .enum(["latest", "earliest"])
    .default("latest")
    .describe(
      'on a first run, "latest" skips files already in the folder (only new files are read), "earliest" reads them too',
    ),
  endMarker: z
    .string()
    .min(1)
    .optional()
    .describe(
      "a file name (such as _DONE) whose arrival ends the input once every other file is read",
    ),
  pollIntervalMs: z
    .int()
    .min(10)
    .max(600_000)
    .default(1_000)
    .describe("how often the folder is listed when no change notification arrives"),
  maxRecordsPerRead: z.int().min(1).default(1_000).describe("at most this many records per read"),
  maxRecordBytes: z
    .int()
    .min(1_024)
    .default(16 * 1024 * 1024)
    .describe("a longer record is an error"),
  onInvalidRecord: z
    .enum(["fail", "skip"])
    .default("fail")
    .describe(
      '"fail" stops at a malformed JSON line or CSV row with an error naming it, "skip" logs it and goes on',
    ),
});

/** The parsed config of the `file` source. */
export type FileSourceConfig = z.output<typeof fileSourceConfig>;
