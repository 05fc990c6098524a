import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { type DStream, defineJob, type StreamingContext } from "sluice";
import { streamsJob } from "sluice/testing";

// Jobs for executors.test.ts. Each input comes from a queue the test fills through `queues`
// (on the driver; executors never read inputs).
const url = import.meta.url;

/** Batches each context's queue input serves, by the test's name for it. */
export const queues = new Map<string, number[][]>();
/** What each context's output received, by the same name. */
export const outputs = new Map<string, unknown[][]>();

function numbers(ctx: StreamingContext, name: string): DStream<number> {
  const queue = queues.get(name) ?? [];
  queues.set(name, queue);
  return ctx.queueStream(queue);
}

function collect(stream: DStream<unknown>, name: string): void {
  const received: unknown[][] = [];
  outputs.set(name, received);
  stream.foreachBatch((batch) => {
    received.push(batch.partitions.flat());
  });
}

/** Throws on the record 3, every time. */
export const throwsOnThree = defineJob((ctx, name: string) => {
  const doubled = numbers(ctx, name).map((x) => {
    if (x === 3) throw new Error(`bad record ${x}`);
    return x * 2;
  });
  collect(doubled, name);
});

/** The first attempt to map a record exits its executor thread (a marker file remembers it). */
export const exitsOnce = defineJob((ctx, args: { name: string; marker: string }) => {
  const doubled = numbers(ctx, args.name).map((x) => {
    if (!existsSync(args.marker)) {
      writeFileSync(args.marker, "exited");
      process.exit(7);
    }
    return x * 2;
  });
  collect(doubled, args.name);
});

/** A word count: a map, a named reduction (a shuffle), then a map after it. */
export const wordCount = defineJob((ctx, name: string) => {
  const words = numbers(ctx, name).map((x): [string, number] => [`k${x % 3}`, x]);
  collect(
    words.reduceByKey("sum").mapValues((v) => v * 10),
    name,
  );
});

/** A mapped stream read by two streams: its function logs each call to a file. */
export const readTwice = defineJob((ctx, args: { name: string; calls: string }) => {
  const mapped = numbers(ctx, args.name).map((x) => {
    appendFileSync(args.calls, `${x}\n`);
    return x * 10;
  });
  collect(mapped.filter((x) => x > 10).union(mapped.map((x) => x + 1)), args.name);
});

/** Builds another graph on executors than on the driver. */
export const differsOnExecutors = defineJob((ctx, name: string) => {
  let stream = numbers(ctx, name);
  if (!isMainThread) stream = stream.filter((x) => x > 0);
  collect(
    stream.map((x) => x + 1),
    name,
  );
});

/** Returns functions as records: not structured-cloneable. */
export const functionsAsRecords = streamsJob(url, "functionsAsRecords", (s: DStream<number>) =>
  s.map((x) => () => x).count(),
);
