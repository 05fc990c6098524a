import { z } from "zod";

/** The config of the built-in `file` sink. */
export const fileSinkConfig = z.strictObject({
  directory: z.string().min(1).describe("the folder the batch files are written to"),
  prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      "letters, digits, '.', '_' and '-', not starting with a dot",
    )
    .default("part")
    .describe("the start of every file name; give each output its own prefix or folder"),
  format: z
    .enum(["lines", "jsonl"])
    .default("lines")
    .describe(
      '"lines": each value and a newline; "jsonl": the same, after checking each value is JSON',
    ),
  createDirectory: z.boolean().default(true).describe("create the folder on connect when missing"),
  fsync: z
    .boolean()
    .default(true)
    .describe("flush each file and the folder to disk before the write counts as done"),
  privateFiles: z
    .boolean()
    .default(false)
    .describe(
      "create files 0600 and folders 0700, readable by the job's user only (on for dead letters); off, they follow the umask",
    ),
});

/** The parsed config of the `file` sink. */
export type FileSinkConfig = z.output<typeof fileSinkConfig>;
