/**
 * The Sluice contenders' jobs (executors import this module to rebuild them). Queue inputs come
 * from `queues`, filled on the driver; every batch's counts are folded into a digest on the
 * driver, into `digests`.
 */
import { type DStream, defineJob, type ParallelCollection } from "sluice";
import { Digest, digestOf, digestOfColumns } from "./digest.js";

/**
 * Batches each run's queue input serves, by run name: lines as strings for the lambda form,
 * byte chunks (as a socket or file source delivers them) for the columnar form.
 */
export const queues = new Map<string, string[][] | Uint8Array[][]>();
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
    if (args.form === "lambda") {
      // Each file's lines are one collection, persisted: under local[2] the executors keep its
      // partitions, as Spark's contender caches each file's RDD before its context starts.
      // `PEERS_SHIP_LINES=1` queues the arrays instead, shipped from the driver every batch.
      const collections = new Map<string[], ParallelCollection<string>>();
      const lines = queue as string[][];
      const persisted = (batch: string[]) => {
        let collection = collections.get(batch);
        if (collection === undefined) {
          collection = ctx.parallelize(batch, 2).persist();
          collections.set(batch, collection);
        }
        return collection;
      };
      const pairs = lambdaPairs(
        ctx.queueStream(process.env.PEERS_SHIP_LINES === "1" ? lines : lines.map(persisted)),
      );
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
      const words = ctx.queueStream(queue as Uint8Array[][]).words();
      counts = window === 0 ? words.countByValue() : words.countByValueAndWindow(window, slide);
    }
  }
  const out: Digest[] = [];
  digests.set(args.name, out);
  const add = (digest: Digest, halves: readonly [number, number, number, number]) => {
    digest.merge(halves);
    return digest;
  };
  // Each partition is digested in a task, as Spark's contender digests its partitions on the
  // executors (`mapPartitions(digest).collect()`): the columnar form's counts from their
  // columns (the words' UTF-8 bytes, as the Rust limit hashes them; Spark's digest encodes its
  // strings to UTF-8), the lambda form's from its pairs. The lambda window's pairs, which Sluice
  // keeps on the driver as JS values, are digested in the output (shipping them to a task would
  // cost more than the digest).
  if (args.form === "columnar") {
    counts
      .mapPairColumns((columns) => [digestOfColumns(columns).halves()])
      .foreachBatch((batch) => {
        out.push(batch.partitions.flat().reduce(add, new Digest()));
      });
  } else if (window === 0) {
    counts
      .mapPartitions((partition) => [digestOf(partition).halves()])
      .foreachBatch((batch) => {
        out.push(batch.partitions.flat().reduce(add, new Digest()));
      });
  } else {
    counts.foreachBatch((batch) => {
      out.push(
        batch.partitions.map((partition) => digestOf(partition).halves()).reduce(add, new Digest()),
      );
    });
  }
});
