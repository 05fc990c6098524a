import { defineJob } from "sluice";

// Jobs for line-executors.test.ts: lines read from a TCP server, counted with lambdas.

/** Every batch's `[word, count]` pairs, by the test's name for the run. */
export const counts = new Map<string, Array<ReadonlyArray<readonly [string, number]>>>();

/** The word count of `socketTextStream` with lambdas: split, pairs, reduceByKey. */
export const socketWordCount = defineJob((ctx, args: { name: string; port: number }) => {
  const received: Array<ReadonlyArray<readonly [string, number]>> = [];
  counts.set(args.name, received);
  ctx
    .socketTextStream("127.0.0.1", args.port)
    .flatMap((line) => line.split(" "))
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b)
    .foreachBatch((batch) => {
      received.push(batch.partitions.flat());
    });
});

/** The lines of the files moved into `directory`, one partition per file, as they arrive. */
export const fileLines = defineJob((ctx, args: { name: string; directory: string }) => {
  const received: Array<ReadonlyArray<readonly [string, number]>> = [];
  counts.set(args.name, received);
  ctx
    .textFileStream(args.directory, {
      newFilesOnly: false,
      filter: (name) => name.endsWith(".txt"),
    })
    .map((line): [string, number] => [line, line.length])
    .foreachBatch((batch) => {
      received.push(batch.partitions.flat());
    });
});
