/**
 * The Sluice contenders' jobs (executors import this module to rebuild them). Queue inputs come
 * from `queues`, filled on the driver; every batch's counts are folded into a digest on the
 * driver, into `digests`.
 */
import { type DStream, defineJob } from "sluice";
import { Digest } from "./digest.js";

/** Batches each run's queue input serves, by run name. */
export const queues = new Map<string, string[][]>();
/** Each run's digests, one per batch, by run name. */
export const digests = new Map<string, Digest[]>();

export interface WordCountArgs {
  readonly name: string;
  /** `lambda`: split, pairs, reduceByKey with a function; `columnar`: words().countByValue(). */
  readonly form: "lambda" | "columnar";
  /** 0: each batch alone; otherwise a window of that many batches sliding by one. */
  readonly windowBatches: number;
  readonly batchIntervalMs: number;
  /** Read the lines from this TCP server instead of the queue. */
  readonly socket?: { readonly host: string; readonly port: number };
}

function lambdaPairs(lines: DStream<string>): DStream<[string, number]> {
  return lines.flatMap((line) => line.split(" ")).map((word): [string, number] => [word, 1]);
}

export const wordCount = defineJob((ctx, args: WordCountArgs) => {
  const window = args.windowBatches * args.batchIntervalMs;
  const slide = args.batchIntervalMs;
  let counts: DStream<[string, number]>;
  if (args.socket !== undefined) {
    const { host, port } = args.socket;
    counts =
      args.form === "lambda"
        ? lambdaPairs(ctx.socketTextStream(host, port, { onServerClose: "end" })).reduceByKey(
            (a, b) => a + b,
          )
        : // The source's records (bytes) straight into the parser: no string per line.
          ctx.source("socket", { host, port, onServerClose: "end" }).words().countByValue();
  } else {
    const queue = queues.get(args.name) ?? [];
    const lines = ctx.queueStream(queue);
    if (args.form === "lambda") {
      const pairs = lambdaPairs(lines);
      counts =
        window === 0
          ? pairs.reduceByKey((a, b) => a + b)
          : pairs.reduceByKeyAndWindow((a, b) => a + b, {
              window,
              slide,
              inverse: (a, b) => a - b,
              filter: ([, count]) => count !== 0,
            });
    } else {
      counts =
        window === 0
          ? lines.words().countByValue()
          : lines.words().countByValueAndWindow(window, slide);
    }
  }
  const out: Digest[] = [];
  digests.set(args.name, out);
  counts.foreachBatch((batch) => {
    const digest = new Digest();
    for (const partition of batch.partitions) {
      for (const [word, count] of partition) digest.add(word, count);
    }
    out.push(digest);
  });
});
