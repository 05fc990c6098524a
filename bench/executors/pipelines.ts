/**
 * The jobs the executors benchmark runs (executors import this module). Inputs come from
 * queues the benchmark fills on the driver.
 */
import { type DStream, defineJob, type StreamingContext } from "sluice";

/** Batches each run's queue input serves, by run name. */
export const queues = new Map<string, string[][]>();
/** Records each run's output saw per batch, by run name (a checksum across masters). */
export const outputs = new Map<string, number[]>();

function lines(ctx: StreamingContext, name: string): DStream<string> {
  const queue = queues.get(name) ?? [];
  queues.set(name, queue);
  return ctx.queueStream(queue);
}

function collect(stream: DStream<readonly [string, number]>, name: string): void {
  const totals: number[] = [];
  outputs.set(name, totals);
  stream.foreachBatch((batch) => {
    let total = 0;
    for (const partition of batch.partitions) for (const [, value] of partition) total += value;
    totals.push(total);
  });
}

/**
 * A deliberately slow score of a line: FNV-1a over the line, `rounds` times. The hash stays an
 * int32 throughout (the FNV offset basis as `| 0`): starting from the double 2166136261 made V8
 * move the loop to code 2.5x slower after about a second, whatever the thread.
 */
export function score(line: string, rounds: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < line.length; i++) {
      hash = Math.imul(hash ^ (line.charCodeAt(i) + round), 16777619);
    }
  }
  return (hash >>> 0) % 1000;
}

/** CPU-bound lambdas: parse and score every line, keep most, sum the scores per user. */
export const cpuBound = defineJob((ctx, args: { name: string; rounds: number }) => {
  const scored = lines(ctx, args.name)
    .map((line): [string, number] => {
      const comma = line.indexOf(",");
      return [line.slice(0, comma), score(line, args.rounds)];
    })
    .filter(([, points]) => points >= 10);
  collect(scored.reduceByKey("sum"), args.name);
});

/** A named aggregation with a shuffle: parse `user,amount` lines, then reduceByKey("sum"). */
export const namedAggregation = defineJob((ctx, name: string) => {
  const amounts = lines(ctx, name).map((line): [string, number] => {
    const comma = line.indexOf(",");
    return [line.slice(0, comma), Number(line.slice(comma + 1))];
  });
  collect(amounts.reduceByKey("sum"), name);
});
