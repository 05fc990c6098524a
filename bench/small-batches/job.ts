/**
 * The small-batch benchmark's job, a module so that `local[N]` executors can load it: the word
 * count of each batch over a socket source, in the columnar form
 * (`ctx.source("socket").words().countByValue()`) or the lambda form
 * (`socketTextStream(...).flatMap(split).map(pair).reduceByKey(lambda)`); a `foreachBatch` adds
 * up the words counted into `wordsCounted`.
 */
import { type DStream, defineJob } from "sluice";

/** The job's arguments. */
export interface SmallBatchArgs {
  readonly form: "columnar" | "lambda";
  readonly host: string;
  readonly port: number;
}

/** Words counted so far, by the driver's output (outputs run on the driver). */
export const wordsCounted = { total: 0 };

export const smallBatchWordCount = defineJob((ctx, args: SmallBatchArgs) => {
  const { host, port } = args;
  const counts: DStream<[string, number]> =
    args.form === "columnar"
      ? ctx.source("socket", { host, port }).words().countByValue()
      : ctx
          .socketTextStream(host, port)
          .flatMap((line) => line.split(" "))
          .map((word): [string, number] => [word, 1])
          .reduceByKey((a, b) => a + b);
  counts.foreachBatch((batch) => {
    let words = 0;
    for (const partition of batch.partitions) for (const [, count] of partition) words += count;
    wordsCounted.total += words;
  });
});
