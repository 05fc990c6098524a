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
      delimiter: z
        .string()
        .length(1)
        // A quote or a line ending cannot separate fields: they already mean something in CSV.
        .refine((delimiter) => !['"', "\n", "\r"].includes(delimiter), {
          message: "a delimiter cannot be a double quote or a line ending",
        })
        .default(",")
        .describe("one character between fields"),
      header: z
        .boolean()
        .default(true)
        .describe(
          "true: the first row names the columns and each record is a JSON object; a repeated name gets a suffix (id, id_2)",
        ),
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
    .describe("a longer record is an invalid record (see onInvalidRecord)"),
  onInvalidRecord: z
    .enum(["fail", "skip", "deadLetter"])
    .default("fail")
    .describe(
      'a malformed JSON line or CSV row, or a record over maxRecordBytes: "fail" stops the job with an error naming file and byte; "skip" goes on, sending it to the dead letters when the job has them (ctx.deadLetters) or else logging a warning; "deadLetter" sends it to the dead letters (which the job must have)',
    ),
});

/** The parsed config of the `file` source. */
export type FileSourceConfig = z.output<typeof fileSourceConfig>;
