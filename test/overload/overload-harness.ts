import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { batchRecords, type SourceInputDStream, type StreamingContext } from "sluice";

// A full collection before each heap sample, so the samples measure what is live (the queue),
// not garbage waiting for a collection.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const decoder = new TextDecoder();

/** What an overload run measured. */
export interface OverloadMeasurements {
  /** Times each record index was processed. */
  readonly seen: Uint8Array;
  /** Records processed in all. */
  readonly processed: () => number;
  /** The most records received but unprocessed, sampled every 20 ms and after every batch. */
  readonly maxQueuedRecords: () => number;
  /** The largest growth of the live heap over the heap before the run, sampled every 200 ms. */
  readonly maxHeapGrowth: () => number;
  /** Stops the sampling. */
  readonly stop: () => void;
}

/**
 * A deliberately slow output (it waits `costMicrosPerRecord` per record of each batch, so it can
 * process far less than the producer sends) that counts every record by the index it carries
 * (`<index> <padding>`), and samples the source's queue and the heap.
 */
export function measureOverload(
  ctx: StreamingContext,
  input: SourceInputDStream,
  records: number,
  costMicrosPerRecord: number,
): OverloadMeasurements {
  const seen = new Uint8Array(records);
  let processed = 0;
  let maxQueued = 0;
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let maxHeap = heapBefore;
  const sample = (): void => {
    maxQueued = Math.max(maxQueued, input.flow.queuedRecords);
  };
  const sampleHeap = (): void => {
    collectGarbage();
    maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  };
  input.foreachBatch(async (batch) => {
    const values = batchRecords(batch);
    for (const record of values) {
      const text = decoder.decode(record.value);
      const index = Number(text.slice(0, text.indexOf(" ")));
      seen[index] = (seen[index] ?? 0) + 1;
    }
    processed += values.length;
    sample();
    // The slow part of the job (a database round trip per record, say).
    await new Promise((resolve) =>
      setTimeout(resolve, (values.length * costMicrosPerRecord) / 1000),
    );
  });
  ctx.addListener({ onInputRate: () => sample() });
  const timer = setInterval(sample, 20);
  const heapTimer = setInterval(sampleHeap, 200);
  return {
    seen,
    processed: () => processed,
    maxQueuedRecords: () => maxQueued,
    maxHeapGrowth: () => maxHeap - heapBefore,
    stop: () => {
      clearInterval(timer);
      clearInterval(heapTimer);
    },
  };
}

/** `<index> ` followed by padding up to `bytes` and a newline. */
export function lineOf(index: number, bytes: number): string {
  const head = `${index} `;
  return `${head}${"x".repeat(Math.max(0, bytes - head.length - 1))}\n`;
}

/** Resolves once the context's inputs ended and everything they held was processed. */
export async function stopWhenDrained(ctx: StreamingContext, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!ctx.inputsEnded) {
    if (Date.now() > deadline) throw new Error(`the inputs did not end within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await ctx.stop({ graceful: true });
}
