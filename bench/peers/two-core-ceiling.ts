/**
 * What two cores can give the word count on this machine, measured beside the peers: the plain
 * Node loop's counting (split + Map) over the W1 batches in one worker thread alone, then in two
 * worker threads at once, each counting every batch (no work shared, nothing to merge). Two
 * threads at once do `2 × alone / together` times one thread's work per unit of time: the most
 * that `local[2]` can gain over `local[1]` on this per-word work, whatever the framework does.
 */
import { Worker } from "node:worker_threads";

/** One measurement: ms per batch for one thread alone and for each of two threads at once. */
export interface TwoCoreCeiling {
  /** Median ms per batch, one thread alone. */
  readonly aloneMs: number;
  /** Median ms per batch of the two threads running at once. */
  readonly togetherMs: number;
  /** Work two threads do per unit of time over one thread alone: 2 × alone / together. */
  readonly ratio: number;
}

// Plain JavaScript (a worker evaluates it as is): the node-loop contender's `countLines`.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const inputs = workerData.files.map((file) => readFileSync(file, "utf8").split("\\n").filter((line) => line.length > 0));
const times = [];
let sink = 0;
for (let i = 0; i < workerData.batches; i++) {
  const started = performance.now();
  const counts = new Map();
  for (const line of inputs[i % inputs.length]) {
    for (const word of line.split(" ")) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  sink += counts.size;
  times.push(performance.now() - started);
}
parentPort.postMessage({ times: times.slice(workerData.warmup), sink });
`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Runs `threads` workers at once over `files`; every batch time of every worker after warm-up. */
async function runThreads(
  threads: number,
  files: readonly string[],
  batches: number,
  warmup: number,
): Promise<number[]> {
  const runs = Array.from(
    { length: threads },
    () =>
      new Promise<number[]>((resolve, reject) => {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { files, batches, warmup },
        });
        worker.once("message", (message: { times: number[] }) => resolve(message.times));
        worker.once("error", reject);
      }),
  );
  return (await Promise.all(runs)).flat();
}

/**
 * Measures the ceiling over `files` (one batch each, in turn): `rounds` rounds of one thread
 * alone then two at once, `batches` batches per thread of which the first `warmup` are not timed.
 *
 * @example
 * const { ratio } = await twoCoreCeiling(files, { rounds: 3, batches: 12, warmup: 4 });
 */
export async function twoCoreCeiling(
  files: readonly string[],
  options: { rounds: number; batches: number; warmup: number },
): Promise<TwoCoreCeiling> {
  const alone: number[] = [];
  const together: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    alone.push(...(await runThreads(1, files, options.batches, options.warmup)));
    together.push(...(await runThreads(2, files, options.batches, options.warmup)));
  }
  const aloneMs = median(alone);
  const togetherMs = median(together);
  return { aloneMs, togetherMs, ratio: (2 * aloneMs) / togetherMs };
}
