// Error-log counts by window: log files are moved into a folder (Spark's textFileStream), the
// lines holding "ERROR" are kept, and countByWindow counts them over the last minute, every 10 s.
import { batchRecords, type Duration, defineJob, parseDuration, validateConfig } from "sluice";
import { z } from "zod";

const duration = z.union([z.number().positive(), z.string().min(1)]);

/** The job's settings (the `job` section of a config file, or `--set job.<name>=...`). */
export const errorLogArgs = z.strictObject({
  directory: z
    .string()
    .min(1)
    .describe("the folder log files are moved into (write them elsewhere, then rename them in)"),
  pattern: z.string().min(1).default("ERROR").describe("the text a line must hold to be counted"),
  window: duration
    .default("60s")
    .describe('how far back each count looks, a multiple of the batch interval, e.g. "60s"'),
  slide: duration
    .default("10s")
    .describe('how often a count is printed, a multiple of the batch interval, e.g. "10s"'),
});

/** The settings as a config file or `--set` gives them. */
export type ErrorLogArgs = z.input<typeof errorLogArgs>;

/**
 * The line printed for one window: its end (the batch time) and the count.
 *
 * @example
 * windowLine(60_000, 3, 60_000, "ERROR"); // '[1970-01-01T00:01:00.000Z] 3 lines with "ERROR" in the last 60 s'
 */
export function windowLine(time: number, count: number, windowMs: number, pattern: string): string {
  const span = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
  return `[${new Date(time).toISOString()}] ${count} lines with ${JSON.stringify(pattern)} in the last ${span}`;
}

export default defineJob<ErrorLogArgs>((ctx, rawArgs) => {
  const args = validateConfig(errorLogArgs, rawArgs ?? {}, 'job "error-log-counts"');
  const windowMs = parseDuration(args.window as Duration, "job.window");
  ctx
    .textFileStream(args.directory)
    .filter((line) => line.includes(args.pattern))
    .countByWindow(args.window as Duration, args.slide as Duration)
    .foreachBatch((batch, time) => {
      for (const count of batchRecords(batch)) {
        process.stdout.write(`${windowLine(time, count, windowMs, args.pattern)}\n`);
      }
    });
});
