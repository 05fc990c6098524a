// The job the stop-without-draining tests run: one partition, so each queued batch is one write
// of the sink, on a manual clock, so the test decides when each batch runs.
import { type ConnectorPlugin, type DStream, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { expect } from "vitest";
import { batchOutcomes } from "./batch-outcomes.js";

/** A queued job, its clock, its input stream and the outcomes of its batches. */
export interface QueuedJob<T> {
  readonly ctx: StreamingContext;
  /** At 0; the n-th queued batch runs at `n * 1000` once the clock is advanced there. */
  readonly clock: ManualClock;
  /** The queued batches, one per batch interval, for the test to add its outputs to. */
  readonly input: DStream<T>;
  /** See batchOutcomes: "1000 written", "2000 failed", ... */
  readonly outcomes: readonly string[];
}

/**
 * A one-partition job named `appName`, using `connectors`, over `batches` queued one per
 * second, on a manual clock at 0, with the outcome of each of its batches recorded.
 *
 * @example
 * const { ctx, clock, input, outcomes } = queuedJob("stop-while-away", [["a"], ["b"]], kafkaSink);
 * input.sink("kafka", { brokers, topic }, { id: "out" });
 */
export function queuedJob<T>(
  appName: string,
  batches: ReadonlyArray<T>[],
  ...connectors: ConnectorPlugin[]
): QueuedJob<T> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, appName, defaultParallelism: 1 });
  ctx.use(...connectors);
  const input = ctx.queueStream(batches);
  return { ctx, clock, input, outcomes: batchOutcomes(ctx) };
}

/** The batches of `firstBatchWritten`: two of two records each. */
export const TWO_BATCHES: ReadonlyArray<readonly string[]> = [
  ["1-a", "1-b"],
  ["2-a", "2-b"],
];

/**
 * The stop tests' job: `TWO_BATCHES` queued, written to the sink `sink` with `config` (output
 * id "readings", a fast backoff), started and its first batch written. `onStop` is called with
 * the context before it starts, for the test's cleanup.
 *
 * @example
 * const { ctx, clock, outcomes } = await firstBatchWritten("stop-grace", rabbitmqSink, "rabbitmq", config, cleanup);
 * clock.advance(1000); // the second batch
 */
export async function firstBatchWritten(
  appName: string,
  plugin: ConnectorPlugin,
  sink: string,
  config: unknown,
  onStop: (stop: () => Promise<void>) => void,
): Promise<QueuedJob<string>> {
  const job = queuedJob(
    appName,
    TWO_BATCHES.map((batch) => [...batch]),
    plugin,
  );
  onStop(() => job.ctx.stop());
  job.input.sink(sink, config, {
    id: "readings",
    backoff: { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 },
  });
  await job.ctx.start();
  job.clock.advance(1000);
  await job.ctx.scope.awaitProcessed(1000);
  expect(job.outcomes).toEqual(["1000 written"]);
  return job;
}
