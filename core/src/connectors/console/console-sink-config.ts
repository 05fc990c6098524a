import { z } from "zod";

/** The config of the built-in `console` sink. */
export const consoleSinkConfig = z.strictObject({
  stream: z.enum(["stdout", "stderr"]).default("stdout").describe("where to print"),
  maxRecords: z
    .int()
    .min(0)
    .default(10)
    .describe(
      'records printed per batch and partition (like Spark\'s print(10)); "..." marks the rest',
    ),
  encoding: z
    .enum(["utf8", "hex", "base64"])
    .default("utf8")
    .describe("how a value's bytes are shown"),
});

/** The parsed config of the `console` sink. */
export type ConsoleSinkConfig = z.output<typeof consoleSinkConfig>;
