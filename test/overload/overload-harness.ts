import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { batchRecords, closeConnectorsOf, type InputRateInfo, StreamingContext } from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { describe, expect, it } from "vitest";

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
  /**
   * Milliseconds the job spent processing batches, summed (the slow output included): what the
   * job can process, measured on this machine as loaded as it is, is `processed() / busyMs()`.
   */
  readonly busyMs: () => number;
  /**
   * Milliseconds the producer took to offer every record, as it measured them; absent when the
   * records were all there before the job started (or a server sent them at the reader's pace).
   */
  readonly offeredInMs?: number;
  /** The most records received but unprocessed, sampled every 20 ms and after every batch. */
  readonly maxQueuedRecords: () => number;
  /** The largest growth of the live heap over the heap before the run, sampled every 200 ms. */
  readonly maxHeapGrowth: () => number;
  /**
   * The largest growth of live ArrayBuffer memory (Node Buffers: received payloads, socket
   * reads), sampled with the heap. The V8 heap does not count it.
   */
  readonly maxBufferGrowth: () => number;
  /** Every completed batch's scheduling delay (ms it waited for earlier batches), in order. */
  readonly schedulingDelays: () => readonly number[];
  /** The source's queue depth every 20 ms until every record was processed. */
  readonly queueSamples: () => readonly number[];
  /** Flow control's report after every completed batch (rate, queue depth, paused state). */
  readonly rates: () => readonly InputRateInfo[];
  /**
   * Batches completed before the first one holding records (while a source was still
   * connecting, a consumer group joining); settling is counted from there.
   */
  readonly batchesBeforeInput: () => number;
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
  let busyMs = 0;
  let maxQueued = 0;
  const rates: InputRateInfo[] = [];
  const queueSamples: number[] = [];
  const delays: number[] = [];
  let batchesBeforeInput = 0;
  let inputSeen = false;
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let maxHeap = heapBefore;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  let maxBuffers = buffersBefore;
  const sample = (): void => {
    maxQueued = Math.max(maxQueued, input.flow.queuedRecords);
  };
  let previousBuffers = buffersBefore;
  const sampleHeap = (): void => {
    collectGarbage();
    const memory = process.memoryUsage();
    maxHeap = Math.max(maxHeap, memory.heapUsed);
    // V8 frees the memory of collected ArrayBuffers on a background thread, which lags behind
    // on a machine whose cores are busy: Buffer memory counts as held only when two samples in
    // a row (200 ms apart) see it. Memory a source really holds stays, and still counts.
    maxBuffers = Math.max(maxBuffers, Math.min(previousBuffers, memory.arrayBuffers));
    previousBuffers = memory.arrayBuffers;
  };
  input.foreachBatch(async (batch) => {
    const started = performance.now();
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
    busyMs += performance.now() - started;
  });
  ctx.addListener({
    onInputRate: (info) => {
      rates.push(info);
      sample();
    },
    onBatchCompleted: (info) => {
      if (info.schedulingDelay !== undefined) delays.push(info.schedulingDelay);
      if (!inputSeen && info.numRecords === 0) batchesBeforeInput++;
      else inputSeen = true;
    },
  });
  const timer = setInterval(() => {
    sample();
    if (processed < records) queueSamples.push(input.flow.queuedRecords);
  }, 20);
  const heapTimer = setInterval(sampleHeap, 200);
  return {
    seen,
    processed: () => processed,
    busyMs: () => busyMs,
    maxQueuedRecords: () => maxQueued,
    maxHeapGrowth: () => maxHeap - heapBefore,
    maxBufferGrowth: () => maxBuffers - buffersBefore,
    schedulingDelays: () => delays,
    queueSamples: () => queueSamples,
    rates: () => rates,
    batchesBeforeInput: () => batchesBeforeInput,
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

/**
 * For inputs that never end (a Kafka topic, a queue): resolves once the job processed
 * `records` records, after stopping the context gracefully (the batches running finish).
 */
export async function stopWhenProcessed(
  ctx: StreamingContext,
  run: OverloadMeasurements,
  records: number,
  deadlineMs: number,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (run.processed() < records) {
    if (Date.now() > deadline) {
      throw new Error(`${run.processed()} of ${records} records processed within ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await ctx.stop({ graceful: true });
}

/** Records a second the job processes on this machine, as loaded as it is (its busy time). */
export function jobRecordsPerSecond(run: OverloadMeasurements): number {
  return (run.processed() * 1000) / Math.max(run.busyMs(), 1);
}

/**
 * The longest a batch may wait for earlier ones once flow control settled. The earlier batches
 * hold at most the queue's bound of records, so the wait is about that much work at the job's
 * measured rate at most; twice that, plus two batch intervals, leaves room for the stalls of a
 * loaded machine (a checkpoint write, a collection, a starved process), while a delay that kept
 * growing, batches piling up behind each other, goes past it within the run. A slow machine
 * raises it with the rate it measured.
 */
export function maxSettledSchedulingDelayMs(
  run: OverloadMeasurements,
  bounds: OverloadBounds,
): number {
  const queueWorkMs = (bounds.maxBufferedRecords * 1000) / jobRecordsPerSecond(run);
  return 2 * queueWorkMs + 2 * bounds.batchIntervalMs;
}

/**
 * The least a settled batch may admit with backpressure on average: half of one interval of the
 * job's work at its measured rate. An estimator that starved the job goes below it. (What it may
 * admit at most is not bounded here: while the source cannot fill the allowance a large one is
 * harmless, and one it can fill fills the queue, which expectRateLimitedQueue rejects.)
 */
export function minMeanAdmittedPerBatch(run: OverloadMeasurements, bounds: OverloadBounds): number {
  return (0.5 * jobRecordsPerSecond(run) * bounds.batchIntervalMs) / 1000;
}

/** What an overload test states about its run. */
export interface OverloadBounds {
  /** Records the producer sent (indices 0 to records - 1). */
  readonly records: number;
  /** The bound of the source's queue (`maxBufferedRecords`). */
  readonly maxBufferedRecords: number;
  /** The most the live heap may grow over the heap before the run, bytes. */
  readonly maxHeapGrowthBytes: number;
  /** The most live ArrayBuffer memory may grow (where payloads are Buffers); unchecked if absent. */
  readonly maxBufferGrowthBytes?: number;
  /** The context's batch interval, ms. */
  readonly batchIntervalMs: number;
  /** Batches the estimator may take to find the rate before the delay must stop growing. */
  readonly settleBatches: number;
}

/**
 * The least overload a run must reach for its checks to mean anything: the producer offered
 * records at least this many times as fast as the job processed them, both measured in the run
 * (so a loaded machine, which slows the producer and the job alike, does not fail it, while a
 * producer that falls behind the job does). At 1.5 the backlog grows at half the job's rate
 * while the producer runs and a third of the records wait when it ends (over 3 times the
 * brokers' queue bound): a source that ignored flow control would fill its queue (0.9 s of
 * work) within 2 s and hold it above half until near the end, where the checks with
 * backpressure allow a quarter of the batches. The producers here reach 10 to 20, and 2.1 to 12
 * with other tests running and a busy loop on one of the two cores.
 */
export const MIN_OVERLOAD_FACTOR = 1.5;

/**
 * Records a second the producer offered over records a second the job processed (its busy
 * time); undefined when the run had no producer of its own pace.
 */
export function overloadFactor(run: OverloadMeasurements): number | undefined {
  if (run.offeredInMs === undefined) return undefined;
  const offeredPerMs = run.processed() / Math.max(run.offeredInMs, 1);
  const processedPerMs = run.processed() / Math.max(run.busyMs(), 1);
  return offeredPerMs / processedPerMs;
}

/**
 * The premise of a run with a producer: it offered at least MIN_OVERLOAD_FACTOR times what the
 * job processed a second.
 */
export function expectOverloaded(run: OverloadMeasurements): void {
  const factor = overloadFactor(run);
  if (factor === undefined) return;
  expect(
    factor,
    `the producer offered ${run.processed()} records in ${Math.round(run.offeredInMs ?? 0)} ms, ` +
      `the job processed them in ${Math.round(run.busyMs())} ms`,
  ).toBeGreaterThanOrEqual(MIN_OVERLOAD_FACTOR);
}

/**
 * What the run measured against what the checks allow, recorded with the test's result (shown
 * by the verbose reporter, and on failure) before the checks: how much room a loaded machine
 * left.
 */
function overloadReport(run: OverloadMeasurements, bounds: OverloadBounds): string {
  const factor = overloadFactor(run);
  const settled = run.schedulingDelays().slice(bounds.settleBatches);
  const admitted = run
    .rates()
    .slice(bounds.settleBatches)
    .flatMap((info) => (info.recordsPerBatch === undefined ? [] : [info.recordsPerBatch]));
  return [
    factor === undefined ? "no producer of its own pace" : `overload ${factor.toFixed(1)}x`,
    `job ${Math.round(jobRecordsPerSecond(run))} records/s`,
    `longest settled scheduling delay ${Math.round(Math.max(0, ...settled))} ms of ` +
      `${Math.round(maxSettledSchedulingDelayMs(run, bounds))}`,
    admitted.length === 0
      ? "no rate limit"
      : `mean admitted per batch ${Math.round(
          admitted.reduce((sum, records) => sum + records, 0) / admitted.length,
        )}, at least ${Math.round(minMeanAdmittedPerBatch(run, bounds))}`,
  ].join("; ");
}

/**
 * The acceptance of every overload run, with backpressure on or off: every record processed
 * exactly once, the queue and the heap within their bounds, and the scheduling delay bounded
 * by the queue's bound once settled (maxSettledSchedulingDelayMs).
 */
export function expectOverloadHandled(run: OverloadMeasurements, bounds: OverloadBounds): void {
  expect(run.processed()).toBe(bounds.records);
  const wrong = run.seen.findIndex((count) => count !== 1);
  expect(wrong, `record ${wrong} was processed ${run.seen[wrong]} times`).toBe(-1);
  expect(run.maxQueuedRecords()).toBeGreaterThan(0);
  expect(run.maxQueuedRecords()).toBeLessThanOrEqual(bounds.maxBufferedRecords);
  expect(run.maxHeapGrowth(), "growth of the live V8 heap").toBeLessThan(bounds.maxHeapGrowthBytes);
  if (bounds.maxBufferGrowthBytes !== undefined) {
    expect(run.maxBufferGrowth(), "growth of Buffer memory outside the heap").toBeLessThan(
      bounds.maxBufferGrowthBytes,
    );
  }
  const settledDelays = run.schedulingDelays().slice(bounds.settleBatches);
  expect(settledDelays.length).toBeGreaterThan(4);
  expect(
    Math.max(...settledDelays),
    "the longest settled scheduling delay, ms",
  ).toBeLessThanOrEqual(maxSettledSchedulingDelayMs(run, bounds));
}

/**
 * With backpressure on, the estimator holds intake near what the job processes once settled:
 * the source was rate-limited without starving the job, and the queue sits well below its bound
 * for most batches.
 */
export function expectRateLimitedQueue(run: OverloadMeasurements, bounds: OverloadBounds): void {
  const settled = run.rates().slice(bounds.settleBatches);
  expect(settled.length).toBeGreaterThan(4);
  expect(settled.every((info) => info.backpressure && info.rateLimit !== undefined)).toBe(true);
  expect(run.rates().some((info) => info.paused === "rate")).toBe(true);
  const belowHalf = settled.filter((info) => info.queuedRecords < bounds.maxBufferedRecords / 2);
  expect(belowHalf.length).toBeGreaterThan(settled.length * 0.75);
  // The job is not starved: batches admit a fair share of what it processes in an interval,
  // measured in this run. (Not the scheduling delay near zero: near full load it wanders with
  // every stall of a busy machine.)
  const admitted = settled.map((info) => info.recordsPerBatch ?? 0);
  const meanAdmitted = admitted.reduce((sum, records) => sum + records, 0) / admitted.length;
  expect(meanAdmitted, "records a settled batch admitted on average").toBeGreaterThanOrEqual(
    minMeanAdmittedPerBatch(run, bounds),
  );
}

/**
 * With backpressure off, nothing limits intake but the queue's bound: the queue fills to it and
 * stays above half of it for most of the overload, sampled every 20 ms (why the feature
 * matters), and the bound still caps memory.
 */
export function expectQueueFillsWithoutBackpressure(
  run: OverloadMeasurements,
  bounds: OverloadBounds,
): void {
  expect(run.rates().every((info) => !info.backpressure && info.rateLimit === undefined)).toBe(
    true,
  );
  expect(run.maxQueuedRecords()).toBeGreaterThanOrEqual(bounds.maxBufferedRecords * 0.9);
  const samples = run.queueSamples();
  const nearFull = samples.filter((queued) => queued >= bounds.maxBufferedRecords / 2);
  expect(nearFull.length).toBeGreaterThan(samples.length / 2);
}

/** One overload run of a job reading one source. */
export interface OverloadJob {
  readonly ctx: StreamingContext;
  readonly input: SourceInputDStream;
  /** What the slow job spends per record, µs. */
  readonly costMicrosPerRecord: number;
  /**
   * Starts the producer; resolves once it sent everything, with the milliseconds it took to
   * offer the records (measured by the producer, its start-up left out). Absent: the data is
   * there already, or a server sends it at the pace the source reads.
   */
  readonly produce?: () => Promise<number>;
  /**
   * How the run ends: `"input-end"` when the input ends by itself (a folder with an end marker,
   * a server closing its socket), `"all-processed"` for inputs that never end (a topic, a queue).
   */
  readonly until: "input-end" | "all-processed";
}

/**
 * Runs an overload: measures the job, starts it and the producer together, waits for the end,
 * stops the context and closes its connectors (also on failure).
 */
export async function runOverload(
  job: OverloadJob,
  bounds: OverloadBounds,
): Promise<OverloadMeasurements> {
  const { ctx, input } = job;
  const run = measureOverload(ctx, input, bounds.records, job.costMicrosPerRecord);
  // Only to stop waiting: a run takes about 10 s, far less even on a machine loaded by others.
  const deadlineMs = 90_000;
  let offeredInMs: number | undefined;
  try {
    const producing = job.produce?.();
    await ctx.start();
    offeredInMs = await producing;
    if (job.until === "input-end") await stopWhenDrained(ctx, deadlineMs);
    else await stopWhenProcessed(ctx, run, bounds.records, deadlineMs);
  } finally {
    run.stop();
    await ctx.stop();
    await closeConnectorsOf(ctx);
  }
  return offeredInMs === undefined ? run : { ...run, offeredInMs };
}

/** What `describeOverload` registers the tests of. */
export interface OverloadSuite {
  /** The source kind, as the suite's title shows it ("socket", "Kafka"). */
  readonly source: string;
  /** What one record is called in the test names ("line", "message"). */
  readonly record: string;
  readonly bounds: OverloadBounds;
  /** One run, with backpressure on or off. */
  readonly overload: (backpressure: boolean) => Promise<OverloadMeasurements>;
  /** The bounds a run is judged by, when they depend on the run (settling counted from input). */
  readonly boundsOf?: (run: OverloadMeasurements) => OverloadBounds;
  readonly timeoutMs?: number;
}

/**
 * Registers the two overload tests every source kind passes: with backpressure, intake at the
 * job's rate and every record once; without, a queue filled to its bound that still caps memory.
 */
export function describeOverload(suite: OverloadSuite): void {
  const boundsOf = suite.boundsOf ?? (() => suite.bounds);
  // Only to stop waiting: room for the producer's and the run's own deadlines.
  const timeoutMs = suite.timeoutMs ?? 180_000;
  describe(`${suite.source} source under overload`, () => {
    it(
      `with backpressure, reads at the rate the job processes and processes every ${suite.record} once`,
      async ({ annotate }) => {
        const run = await suite.overload(true);
        await annotate(overloadReport(run, boundsOf(run)));
        expectOverloaded(run);
        expectOverloadHandled(run, boundsOf(run));
        expectRateLimitedQueue(run, boundsOf(run));
      },
      timeoutMs,
    );

    it(
      "without backpressure, fills its queue to the bound, which still caps memory",
      async ({ annotate }) => {
        const run = await suite.overload(false);
        await annotate(overloadReport(run, boundsOf(run)));
        expectOverloaded(run);
        expectOverloadHandled(run, boundsOf(run));
        expectQueueFillsWithoutBackpressure(run, boundsOf(run));
      },
      timeoutMs,
    );
  });
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Runs a producer in a process of its own, as producers do: its buffers stay out of the job's
 * memory and it does not share the job's event loop. `script` is an ES module run from the
 * repository's root that reads `settings` from `process.env.OVERLOAD_PRODUCER` and prints
 * the milliseconds it took to offer the records (its start-up left out); resolves with them.
 */
export async function runProducerProcess(script: string, settings: object): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    {
      cwd: REPO_ROOT,
      timeout: 60_000,
      env: { ...process.env, OVERLOAD_PRODUCER: JSON.stringify(settings) },
    },
  );
  const offeredInMs = Number(stdout.trim());
  if (stdout.trim() === "" || !Number.isFinite(offeredInMs)) {
    throw new Error(`the producer printed ${JSON.stringify(stdout)}, not its milliseconds`);
  }
  return offeredInMs;
}

/**
 * The scale every broker's overload runs at (Kafka, RabbitMQ, MQTT): a job processing 1 667 records
 * a second (600 µs each) and 15 000 records of 2 KB (30 MB) offered by a producer process many
 * times faster. Scaled down from the socket and file runs (10 000 records a second, 60 000
 * records): while the job runs, the brokers on this machine take 20 000 to 35 000 messages a second
 * (7 000 to 11 000 with another process busy on one of the two cores), so an overload well above
 * MIN_OVERLOAD_FACTOR needs a job this slow, and 15 000 records keep each run near 10 s. The queue
 * holds 0.9 s of work (3 MB of values); 30 MB go through, while the live heap and Buffer memory may
 * each grow by 16 MB at most.
 */
export const BROKER_OVERLOAD = {
  bounds: {
    records: 15_000,
    maxBufferedRecords: 1_500,
    maxHeapGrowthBytes: 16 * 1024 * 1024,
    maxBufferGrowthBytes: 16 * 1024 * 1024,
    batchIntervalMs: 200,
    settleBatches: 10,
  },
  recordBytes: 2_000,
  costMicrosPerRecord: 600,
} as const satisfies { bounds: OverloadBounds; recordBytes: number; costMicrosPerRecord: number };

/**
 * The context every overload run uses: `bounds.batchIntervalMs` batches, one partition, and
 * backpressure on or off.
 */
export function overloadContext(bounds: OverloadBounds, backpressure: boolean): StreamingContext {
  return new StreamingContext({
    batchInterval: bounds.batchIntervalMs,
    defaultParallelism: 1,
    backpressure: { enabled: backpressure },
  });
}
