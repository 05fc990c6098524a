// A stop without draining (`ctx.stop()`) while a sink retries in the batch in progress: the
// stop ends the retries, the batch fails and its reads are handed back (nacked), and
// awaitTermination resolves, as Spark's `stop(stopGracefully = false)` ends quietly. A write
// waiting for its server's answer gets the stop's grace (`interruptAfter`): answered within it,
// the batch is written; not, it fails. A batch that failed on its own before the stop is still
// the job's error.
import { type BatchInfo, batchRecords, type SinkRecord, StreamingContext } from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { defineSink, NotConnectedError, type Sink, type WriteBatchContext } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { FedSource, fedPlugin, text } from "../plugins/fed-source.js";

/** A sink whose server is away once `away` is set: every write and reconnect is refused. */
class AwaySink implements Sink {
  away = false;
  connects = 0;
  readonly written: string[] = [];

  async connect(): Promise<void> {
    this.connects++;
    if (this.away && this.connects > 1) throw new NotConnectedError("the server is away");
  }

  async writeBatch(records: readonly SinkRecord[]): Promise<void> {
    if (this.away) throw new NotConnectedError("the server went away");
    this.written.push(...records.map(text));
  }

  async close(): Promise<void> {}
}

/** A sink whose write waits for the test to answer it, or for the stop's grace to end. */
class AnsweredSink implements Sink {
  readonly written: string[] = [];
  readonly waiting: (() => void)[] = [];

  async connect(): Promise<void> {}

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    const answered = new Promise<void>((resolve) => this.waiting.push(resolve));
    const { waitsEnd } = context;
    if (waitsEnd === undefined) throw new Error("the framework gives every write waitsEnd");
    await Promise.race([
      answered,
      new Promise<never>((_resolve, reject) =>
        waitsEnd.addEventListener("abort", () => reject(new Error("stopped waiting")), {
          once: true,
        }),
      ),
    ]);
    this.written.push(...records.map(text));
  }

  async close(): Promise<void> {}
}

const running: StreamingContext[] = [];
afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
});

function job() {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  running.push(ctx);
  const source = new FedSource();
  const sink = new AwaySink();
  const stream = ctx.source(fedPlugin(source), {}) as SourceInputDStream;
  const batches: BatchInfo[] = [];
  ctx.addListener({ onBatchCompleted: (info) => batches.push(info) });
  return { ctx, clock, source, sink, stream, batches };
}

const failed = (info: BatchInfo) =>
  [...info.outputOperationInfos.values()].some((output) => output.failureReason !== undefined);

describe("ctx.stop() without draining", () => {
  it("ends a sink's retries: the batch fails, its reads are nacked, awaitTermination resolves", async () => {
    const { ctx, clock, source, sink, stream, batches } = job();
    stream.sink(
      defineSink({
        name: "away",
        version: "1.0.0",
        config: z.strictObject({}),
        capabilities: { idempotent: true },
        create: () => sink,
      }),
      {},
      { id: "away", backoff: { initialDelayMs: 5, maxDelayMs: 20, multiplier: 2, jitter: 0 } },
    );
    const terminated = ctx.awaitTermination();
    await ctx.start();

    source.feed("a", "b");
    await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    expect(sink.written).toEqual(["a", "b"]);

    sink.away = true;
    source.feed("c");
    await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
    clock.advance(1000);
    // The sink is reconnecting: the batch at 2000 waits for its server.
    await vi.waitFor(() => expect(sink.connects).toBeGreaterThanOrEqual(3));
    expect(batches.map((info) => info.batchTime)).toEqual([1000]);

    await ctx.stop();
    expect(sink.away).toBe(true); // ended while the server was still away
    await expect(terminated).resolves.toBeUndefined();
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
    expect(ctx.scope.firstError()).toBeUndefined();
    expect(batches.map((info) => [info.batchTime, failed(info)])).toEqual([
      [1000, false],
      [2000, true],
    ]);
    expect(source.acks).toEqual(["ack a,b", "nack c"]);
    expect(sink.written).toEqual(["a", "b"]);
  });

  for (const answered of [true, false]) {
    it(`lets a write wait for its answer for the stop's grace: ${answered ? "answered, the batch is written" : "not answered, it fails"}`, async () => {
      const { ctx, clock, source, stream, batches } = job();
      const sink = new AnsweredSink();
      stream.sink(
        defineSink({
          name: "answered",
          version: "1.0.0",
          config: z.strictObject({}),
          capabilities: { idempotent: true },
          create: () => sink,
        }),
        {},
        { id: "answered" },
      );
      await ctx.start();
      source.feed("a", "b");
      await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
      clock.advance(1000);
      await vi.waitFor(() => expect(sink.waiting).toHaveLength(1));

      const stopped = ctx.stop({ interruptAfter: answered ? "1h" : 1 });
      // The answer comes once the stop has ended retries.
      await vi.waitFor(() => expect(ctx.scope.connectors.retriesEnd.aborted).toBe(true));
      if (answered) for (const answer of sink.waiting) answer();
      await stopped;
      await expect(ctx.awaitTermination()).resolves.toBeUndefined();
      expect(batches.map((info) => [info.batchTime, failed(info)])).toEqual([[1000, !answered]]);
      expect(sink.written).toEqual(answered ? ["a", "b"] : []);
      expect(source.acks).toEqual([answered ? "ack a,b" : "nack a,b"]);
    });
  }

  it("refuses an interruptAfter that is not a duration, naming it", async () => {
    const { ctx, stream } = job();
    stream.foreachBatch(() => undefined);
    await ctx.start();
    expect(() => ctx.stop({ interruptAfter: "soon" as "1s" })).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_DURATION",
        message: expect.stringContaining("interruptAfter"),
      }),
    );
    await ctx.stop({ interruptAfter: 0 });
  });

  it("still reports a batch that failed before the stop", async () => {
    const { ctx, clock, source, stream, batches } = job();
    stream.map(text).foreachBatch((batch) => {
      if (batchRecords(batch).includes("bad")) throw new Error("the output failed");
    });
    const terminated = ctx.awaitTermination();
    terminated.catch(() => undefined);
    await ctx.start();

    source.feed("bad");
    await vi.waitFor(() => expect(stream.hasPendingData()).toBe(true));
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    await ctx.stop();

    await expect(terminated).rejects.toThrow("the output failed");
    expect(batches.map((info) => [info.batchTime, failed(info)])).toEqual([[1000, true]]);
    expect(source.acks).toEqual(["nack bad"]);
  });
});
