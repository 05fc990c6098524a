/**
 * What a batch costs the streaming core by itself: a context on a manual clock with a queue
 * input of tiny batches (10 strings) and `outputs` output operations (each `map` then
 * `foreachBatch`), driven one interval at a time, each batch awaited. No socket, no timers, no
 * kernels: the job generator, the job scheduler, the listener bus and the streams' bookkeeping.
 * Prints µs per batch (wall clock and CPU of the process).
 *   node --import tsx bench/small-batches/core-cost.ts [batches] [rounds]
 */
import { StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";

/** µs per batch of one configuration, median over the rounds. */
export interface CoreCost {
  readonly outputs: number;
  readonly wallUs: number;
  readonly cpuUs: number;
}

async function once(outputs: number, batches: number): Promise<{ wallUs: number; cpuUs: number }> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 10, clock });
  const queue = Array.from({ length: batches }, (_, i) =>
    Array.from({ length: 10 }, (_, j) => `r${i}-${j}`),
  );
  const input = ctx.queueStream(queue);
  let seen = 0;
  for (let i = 0; i < outputs; i++) {
    input
      .map((value) => value.length)
      .foreachBatch((batch) => {
        for (const partition of batch.partitions) seen += partition.length;
      });
  }
  let waiting: (() => void) | undefined;
  ctx.addListener({ onBatchCompleted: () => waiting?.() });
  await ctx.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < batches; i++) {
    const done = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    clock.advance(10);
    await done;
  }
  const wallUs = ((performance.now() - started) * 1000) / batches;
  const used = process.cpuUsage(cpu);
  await ctx.stop();
  if (seen !== batches * 10 * outputs) throw new Error(`counted ${seen} records`);
  return { wallUs, cpuUs: (used.user + used.system) / batches };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/**
 * Measures 1 and 10 output operations, alternating, `rounds` times after a warm-up.
 *
 * @example
 * await coreCost(2000, 5); // [{ outputs: 1, wallUs, cpuUs }, { outputs: 10, ... }]
 */
export async function coreCost(batches: number, rounds: number): Promise<CoreCost[]> {
  const configs = [1, 10];
  for (const outputs of configs) await once(outputs, Math.min(batches, 500));
  const samples = new Map(
    configs.map((outputs) => [outputs, [] as { wallUs: number; cpuUs: number }[]]),
  );
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    for (const outputs of order) samples.get(outputs)?.push(await once(outputs, batches));
  }
  return configs.map((outputs) => {
    const runs = samples.get(outputs) ?? [];
    return {
      outputs,
      wallUs: median(runs.map((run) => run.wallUs)),
      cpuUs: median(runs.map((run) => run.cpuUs)),
    };
  });
}

if (process.argv[1]?.endsWith("core-cost.ts")) {
  const batches = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 5);
  process.stdout.write(`${JSON.stringify(await coreCost(batches, rounds))}\n`);
}
