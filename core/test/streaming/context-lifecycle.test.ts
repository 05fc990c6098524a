import { batchRecords, StreamingContext, type StreamingListener } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";

function contextWithClock(start = 0): { ctx: StreamingContext; clock: ManualClock } {
  const clock = new ManualClock(start);
  return { ctx: new StreamingContext({ batchInterval: "1s", clock }), clock };
}

/** Resolves with the info of the batch at `time` once it completes. */
function batchCompleted(ctx: StreamingContext, time: number): Promise<void> {
  return new Promise((resolve) => {
    const listener: StreamingListener = {
      onBatchCompleted: (info) => {
        if (info.batchTime === time) {
          ctx.removeListener(listener);
          resolve();
        }
      },
    };
    ctx.addListener(listener);
  });
}

describe("StreamingContext lifecycle", () => {
  it("goes INITIALIZED → ACTIVE → STOPPED", async () => {
    const { ctx } = contextWithClock();
    ctx.queueStream<number>([]).foreachBatch(() => {});
    expect(ctx.state).toBe("INITIALIZED");
    await ctx.start();
    expect(ctx.state).toBe("ACTIVE");
    await ctx.stop();
    expect(ctx.state).toBe("STOPPED");
  });

  it("refuses to start twice, or after stop", async () => {
    const { ctx } = contextWithClock();
    ctx.queueStream<number>([]).foreachBatch(() => {});
    await ctx.start();
    expect(() => ctx.start()).toThrowError(
      expect.objectContaining({
        code: "SLUICE_ILLEGAL_STATE",
        message: expect.stringMatching(/already been started/),
      }),
    );
    await ctx.stop();
    expect(() => ctx.start()).toThrowError(
      expect.objectContaining({
        code: "SLUICE_ILLEGAL_STATE",
        message: expect.stringMatching(/already been stopped/),
      }),
    );
  });

  it("refuses to start without an output operation", () => {
    const { ctx } = contextWithClock();
    ctx.queueStream<number>([]).map((x) => x);
    expect(() => ctx.start()).toThrowError(
      expect.objectContaining({ code: "SLUICE_NO_OUTPUT_OPERATIONS" }),
    );
    expect(ctx.state).toBe("INITIALIZED");
  });

  it("refuses new inputs, transformations and outputs after start and after stop", async () => {
    const { ctx } = contextWithClock();
    const stream = ctx.queueStream<number>([]);
    stream.foreachBatch(() => {});
    await ctx.start();
    const afterStart = expect.objectContaining({
      code: "SLUICE_ILLEGAL_STATE",
      message: expect.stringMatching(/after starting a context is not supported/),
    });
    expect(() => stream.map((x) => x)).toThrowError(afterStart);
    expect(() => stream.print()).toThrowError(afterStart);
    expect(() => ctx.queueStream([])).toThrowError(afterStart);
    expect(() => ctx.remember("1m")).toThrowError(afterStart);
    await ctx.stop();
    expect(() => stream.filter(() => true)).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/after stopping a context is not supported/),
      }),
    );
  });

  it("stop before start, and stop twice, are allowed", async () => {
    const { ctx } = contextWithClock();
    await ctx.stop();
    expect(ctx.state).toBe("STOPPED");
    await ctx.stop();
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
  });

  it("places the first batch one interval after the last multiple of the interval", async () => {
    const { ctx, clock } = contextWithClock(2500);
    const times: number[] = [];
    ctx.queueStream<number>([]).foreachBatch((_batch, time) => {
      times.push(time);
    });
    await ctx.start();
    const done = batchCompleted(ctx, 4000);
    clock.advance(1500); // 4000: the batches at 3000 and 4000 are both due
    await done;
    await ctx.stop();
    expect(times).toEqual([3000, 4000]);
  });

  it("awaitTermination resolves on stop; awaitTerminationOrTimeout tells which came first", async () => {
    const { ctx } = contextWithClock();
    ctx.queueStream<number>([]).foreachBatch(() => {});
    await ctx.start();
    await expect(ctx.awaitTerminationOrTimeout(5)).resolves.toBe(false);
    const terminated = ctx.awaitTermination();
    const orTimeout = ctx.awaitTerminationOrTimeout(60_000);
    await ctx.stop();
    await expect(terminated).resolves.toBeUndefined();
    await expect(orTimeout).resolves.toBe(true);
  });

  it("awaitTermination rejects with the error of a failed batch", async () => {
    const { ctx, clock } = contextWithClock();
    ctx.queueStream([[1]]).foreachBatch(() => {
      throw new Error("sink down");
    });
    await ctx.start();
    const terminated = ctx.awaitTermination();
    clock.advance(1000);
    await expect(terminated).rejects.toMatchObject({
      code: "SLUICE_JOB_FAILED",
      message: /sink down/,
    });
    await expect(ctx.awaitTerminationOrTimeout(1)).rejects.toMatchObject({
      code: "SLUICE_JOB_FAILED",
    });
    await ctx.stop();
  });

  it("rejects bad options, naming every problem at once", () => {
    expect(
      () =>
        new StreamingContext({ batchInterval: "soon" as never, master: "yarn", concurrentJobs: 0 }),
    ).toThrowError(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringMatching(/batchInterval.*master "yarn".*concurrentJobs/),
      }),
    );
  });

  it("takes its default parallelism from master", () => {
    expect(
      new StreamingContext({ batchInterval: 1000, master: "local[3]" }).defaultParallelism,
    ).toBe(3);
    expect(new StreamingContext({ batchInterval: 1000, master: "local" }).defaultParallelism).toBe(
      1,
    );
    expect(new StreamingContext({ batchInterval: 1000 }).defaultParallelism).toBe(2);
    const ctx = new StreamingContext({
      batchInterval: "2s",
      appName: "jobs",
      checkpoint: "/tmp/cp",
    });
    expect([ctx.batchInterval, ctx.appName, ctx.checkpointDirectory]).toEqual([
      2000,
      "jobs",
      "/tmp/cp",
    ]);
  });
});

describe("queueStream", () => {
  it("takes one queued array per batch, then empty batches; accepts pushes while running", async () => {
    const { ctx, clock } = contextWithClock();
    const queue: number[][] = [[1, 2], [3]];
    const seen: number[][] = [];
    ctx.queueStream(queue).foreachBatch((batch) => {
      seen.push(batchRecords(batch));
    });
    await ctx.start();
    for (const time of [1000, 2000, 3000]) {
      const done = batchCompleted(ctx, time);
      clock.advance(1000);
      await done;
    }
    queue.push([4, 5]);
    const done = batchCompleted(ctx, 4000);
    clock.advance(1000);
    await done;
    await ctx.stop();
    expect(seen).toEqual([[1, 2], [3], [], [4, 5]]);
  });

  it("with oneAtATime false takes everything queued; defaultBatch fills an empty queue", async () => {
    const { ctx, clock } = contextWithClock();
    const seen: number[][] = [];
    ctx
      .queueStream([[1], [2, 3]], { oneAtATime: false, defaultBatch: [0] })
      .foreachBatch((batch) => {
        seen.push(batchRecords(batch));
      });
    await ctx.start();
    const done = batchCompleted(ctx, 2000);
    clock.advance(2000);
    await done;
    await ctx.stop();
    expect(seen).toEqual([[1, 2, 3], [0]]);
  });
});
