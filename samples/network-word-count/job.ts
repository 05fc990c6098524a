// Spark's NetworkWordCount: the lines a TCP server sends (socketTextStream) are split into words
// and counted per batch with reduceByKey; print() shows the counts of every batch.
import { defineJob, validateConfig } from "sluice";
import { z } from "zod";

/** The job's settings (the `job` section of a config file, or `--set job.<name>=...`). */
export const wordCountArgs = z.strictObject({
  host: z.string().min(1).default("localhost").describe("the host of the TCP server to read"),
  port: z.int().min(1).max(65_535).default(9999).describe("the port of the TCP server to read"),
});

/** The settings as a config file or `--set` gives them. */
export type WordCountArgs = z.input<typeof wordCountArgs>;

export default defineJob<WordCountArgs>((ctx, rawArgs) => {
  const { host, port } = validateConfig(wordCountArgs, rawArgs ?? {}, 'job "network-word-count"');
  ctx
    .socketTextStream(host, port)
    .flatMap((line) => line.split(/\s+/).filter((word) => word.length > 0))
    .map((word) => [word, 1])
    .reduceByKey("sum")
    .print();
});
