import {
  batchRecords,
  type InputRateInfo,
  type RateControlOptions,
  type SourceRecord,
  StreamingContext,
} from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { defineSource, type ReadOptions, type ReadResult, type Source } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { z } from "zod";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A replayable in-memory source whose producer writes `ratePerSecond` records per second of the
 * manual clock until `total` were written (a broker topic with a fast producer): a read returns
 * what was produced and not read yet, honouring the `maxRecords` hint.
 */
export class ProducerSource implements Source {
  private nextIndex = 0;
  private paused = false;
  largestRead = 0;

  constructor(
    private readonly clock: ManualClock,
    private readonly ratePerSecond: number,
    readonly total: number,
  ) {}

  private produced(): number {
    return Math.min(this.total, Math.floor((this.clock.now() * this.ratePerSecond) / 1000));
  }

  async connect(): Promise<void> {}

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    for (;;) {
      if (this.paused || signal.aborted) return { records: [], ack: () => undefined };
      const available = this.produced() - this.nextIndex;
      if (available > 0) {
        const count = Math.min(available, options?.maxRecords ?? Number.POSITIVE_INFINITY);
        const records: SourceRecord[] = [];
        for (let i = 0; i < count; i++) records.push(recordOf(this.nextIndex++));
        this.largestRead = Math.max(this.largestRead, count);
        return { records, ack: () => undefined };
      }
      // Nothing produced yet: wait for the clock to move (or the stop).
      try {
        await this.clock.waitUntil(this.clock.now() + 1, signal);
      } catch {
        return { records: [], ack: () => undefined };
      }
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async close(): Promise<void> {}
}

function recordOf(index: number): SourceRecord {
  return {
    value: encoder.encode(`record-${index}`),
    headers: {},
    timestampMs: 0,
    partition: "topic-0",
    offset: String(index),
  };
}

/** What one simulated run observed. */
export interface OverloadRun {
  /** How many times each record was processed, by record. */
  readonly processed: Map<string, number>;
  /** Every flow-control event, in order. */
  readonly rates: InputRateInfo[];
  /** The most records received but not processed at any step. */
  readonly maxQueuedRecords: number;
  /** The most bytes received but not processed at any step. */
  readonly maxQueuedBytes: number;
  /** The clock when the last record was processed. */
  readonly finishedAtMs: number;
  /** The largest single read. */
  readonly largestRead: number;
}

/** The overload: a producer 10x faster than the output, which costs `costMsPerRecord` of clock. */
export interface OverloadSetup {
  readonly producerRatePerSecond: number;
  readonly records: number;
  readonly costMsPerRecord: number;
  /** The cost per record when the batch starts at `clockMs`, instead of `costMsPerRecord`. */
  readonly costMsPerRecordAt?: (clockMs: number) => number;
  readonly backpressure: RateControlOptions;
  readonly maxBufferedRecords: number;
  readonly maxBufferedBytes?: number;
  /** Give up (and report what was processed) after this much clock time. */
  readonly maxClockMs: number;
}

/**
 * Runs the overload on a manual clock moved 100 ms at a time: the output "takes" its processing
 * time by waiting on the clock, so batches queue up exactly as they would in real time.
 */
export async function runSimulatedOverload(setup: OverloadSetup): Promise<OverloadRun> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({
    batchInterval: 1000,
    clock,
    defaultParallelism: 1,
    backpressure: setup.backpressure,
  });
  const source = new ProducerSource(clock, setup.producerRatePerSecond, setup.records);
  const plugin = defineSource({
    name: "producer",
    version: "1.0.0",
    config: z.strictObject({}),
    capabilities: { replayable: true },
    create: () => source,
  });
  const processed = new Map<string, number>();
  let processedCount = 0;
  const input = ctx.source(
    plugin,
    {},
    {
      maxBufferedRecords: setup.maxBufferedRecords,
      ...(setup.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: setup.maxBufferedBytes }),
    },
  ) as SourceInputDStream;
  input.foreachBatch(async (batch) => {
    const records = batchRecords(batch);
    for (const record of records) {
      const key = decoder.decode(record.value);
      processed.set(key, (processed.get(key) ?? 0) + 1);
    }
    processedCount += records.length;
    const cost = setup.costMsPerRecordAt?.(clock.now()) ?? setup.costMsPerRecord;
    if (cost > 0) await clock.waitUntil(clock.now() + records.length * cost);
  });
  const rates: InputRateInfo[] = [];
  ctx.addListener({ onInputRate: (info) => rates.push(info) });
  let maxQueuedRecords = 0;
  let maxQueuedBytes = 0;
  await ctx.start();
  try {
    while (processedCount < setup.records && clock.now() < setup.maxClockMs) {
      clock.advance(100);
      await settle();
      maxQueuedRecords = Math.max(maxQueuedRecords, input.flow.queuedRecords);
      maxQueuedBytes = Math.max(maxQueuedBytes, input.flow.queuedBytes);
    }
  } finally {
    // The batch in progress waits on the clock: keep it moving until the context stopped.
    let stopped = false;
    const stopping = ctx.stop().finally(() => {
      stopped = true;
    });
    while (!stopped) {
      clock.advance(100);
      await settle();
    }
    await stopping;
  }
  return {
    processed,
    rates,
    maxQueuedRecords,
    maxQueuedBytes,
    finishedAtMs: clock.now(),
    largestRead: source.largestRead,
  };
}

// Everything in the run moves on promises and the manual clock: a few turns of the event loop
// let every pending step finish.
async function settle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
