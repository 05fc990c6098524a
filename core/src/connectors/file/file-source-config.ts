import { z } from "zod";
import { type Duration, parseDuration } from "../../util/duration.js";

/** The longest fixed-length binary record (`recordLength`): one record is one read of the file. */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

/** The config of the built-in `file` source. */
export const fileSourceConfig = z
  .strictObject({
    directory: z
      .string()
      .min(1)
      .describe(
        "the folder to watch; writers must move (rename) finished files into it, hidden and *.tmp files are ignored",
      ),
    format: z
      .enum(["lines", "jsonl", "csv", "binary"])
      .default("lines")
      .describe(
        '"lines": one record per line; "jsonl": one JSON value per line; "csv": one row per record, as JSON; "binary": the bytes cut every recordLength bytes (Spark\'s binaryRecordsStream)',
      ),
    recordLength: z
      .int()
      .min(1)
      .max(MAX_RECORD_LENGTH, `must be at most ${MAX_RECORD_LENGTH} bytes (16 MiB)`)
      .optional()
      .describe(
        'with format "binary" (and only then, where it is required): the bytes of each record; a file\'s trailing bytes short of a whole record are an invalid record',
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
    // prefault, not default: the default goes through the parsing as given values do, and stays
    // visible in the input schema `sluice connectors` lists.
    pollIntervalMs: durationMs("pollIntervalMs", { min: 10, max: 600_000 })
      .prefault(1_000)
      .describe(
        'how often the folder is listed when no change notification arrives: milliseconds or a duration such as "1s" (10 ms to 10 minutes)',
      ),
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
        'a malformed JSON line or CSV row, a record over maxRecordBytes, or a binary file\'s trailing bytes short of recordLength: "fail" stops the job with an error naming file and byte; "skip" goes on, sending it to the dead letters when the job has them (ctx.deadLetters) or else logging a warning; "deadLetter" sends it to the dead letters (which the job must have)',
      ),
  })
  // recordLength belongs to "binary" alone: required there, and refused elsewhere rather than
  // ignored, so a config that meant binary records never reads lines.
  .superRefine((config, context) => {
    if (config.format === "binary" && config.recordLength === undefined) {
      context.addIssue({
        code: "custom",
        path: ["recordLength"],
        message: 'is required with format "binary": the bytes of each record',
      });
    } else if (config.format !== "binary" && config.recordLength !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["recordLength"],
        message: `applies only to format "binary" (format is "${config.format}")`,
      });
    }
  });

/** The parsed config of the `file` source. */
export type FileSourceConfig = z.output<typeof fileSourceConfig>;

/**
 * A config field of milliseconds that also takes a duration string, as `batchInterval` and
 * windows do (`"1s"`, `"500ms"`, `"2m"`): a string is read by `parseDuration`; the result must
 * be whole milliseconds from `min` to `max`, or the issue names the range and an example.
 *
 * @example
 * z.strictObject({ pollIntervalMs: durationMs("pollIntervalMs", { min: 10, max: 600_000 }) });
 */
function durationMs(field: string, range: { readonly min: number; readonly max: number }) {
  const allowed = `whole milliseconds from ${range.min} to ${range.max}, or a duration such as "1s" or "500ms"`;
  return z
    .union([z.number(), z.string()], { error: `expected ${allowed}` })
    .transform((value, context) => {
      let ms = value;
      if (typeof value === "string") {
        try {
          ms = parseDuration(value as Duration, field);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          // An unreadable string gets parseDuration's advice ("did you mean ..."), without the
          // field name the config error shows already; a readable one out of range the range.
          context.addIssue({
            code: "custom",
            message: message.includes("cannot read duration")
              ? message.slice(message.indexOf("cannot read duration"))
              : `must be ${allowed}`,
          });
          return z.NEVER;
        }
      }
      if (!Number.isInteger(ms) || (ms as number) < range.min || (ms as number) > range.max) {
        context.addIssue({
          code: "custom",
          message: `must be ${allowed}${typeof value === "string" ? ` (it is ${ms} ms)` : ""}`,
        });
        return z.NEVER;
      }
      return ms as number;
    });
}
