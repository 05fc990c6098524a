import {
  type BatchInfo,
  batchRecords,
  type OutputOperationInfo,
  Receiver,
  StreamingContext,
} from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { batchCompleted, gate, nextEvent, turn } from "./events.js";

function manualContext(options: { concurrentJobs?: number } = {}) {
  const clock = new ManualClock();
  return { ctx: new StreamingContext({ batchInterval: 1000, clock, ...options }), clock };
}

class PushReceiver extends Receiver<string> {
  readonly events: string[] = [];
  onStart(): void {
    this.events.push("start");
  }
  onStop(): void {
    this.events.push("stop");
  }
}

describe("listener", () => {
  it("reports batches with record counts and delays, and output operations, in order", async () => {
    const { ctx, clock } = manualContext();
    const events: string[] = [];
    const completed: BatchInfo[] = [];
    const outputs: OutputOperationInfo[] = [];
    ctx.addListener({
      onBatchSubmitted: (info) => events.push(`submitted ${info.batchTime}`),
      onBatchStarted: (info) => events.push(`started ${info.batchTime}`),
      onBatchCompleted: (info) => {
        events.push(`completed ${info.batchTime}`);
        completed.push(info);
      },
      onOutputOperationStarted: (info) => events.push(`op ${info.id} started ${info.batchTime}`),
      onOutputOperationCompleted: (info) => {
        events.push(`op ${info.id} completed ${info.batchTime}`);
        outputs.push(info);
      },
    });
    const hold = gate();
    const stream = ctx.queueStream([[1, 2, 3], [4]]);
    stream.foreachBatch(async (_batch, time) => {
      if (time === 1000) await hold.promise;
    });
    stream.count().foreachBatch(() => {
      throw new Error("count sink failed");
    });
    const terminated = ctx.awaitTermination().catch((error: unknown) => error);
    await ctx.start();
    clock.advance(1000); // batch 1000 starts and waits for the gate
    await turn();
    clock.advance(1000); // batch 2000 is submitted but must wait: batches do not overlap
    await turn();
    clock.advance(500);
    const secondDone = batchCompleted(ctx, 2000);
    hold.open(); // batch 1000 ends at 2500; batch 2000 starts then
    await secondDone;
    await ctx.stop();

    expect(events).toEqual([
      "submitted 1000",
      "started 1000",
      "op 0 started 1000",
      "submitted 2000",
      "op 0 completed 1000",
      "op 1 started 1000",
      "op 1 completed 1000",
      "completed 1000",
      "started 2000",
      "op 0 started 2000",
      "op 0 completed 2000",
      "op 1 started 2000",
      "op 1 completed 2000",
      "completed 2000",
    ]);
    const [first, second] = completed;
    expect(first).toMatchObject({
      batchTime: 1000,
      numRecords: 3,
      submissionTime: 1000,
      processingStartTime: 1000,
      processingEndTime: 2500,
      schedulingDelay: 0,
      processingDelay: 1500,
      totalDelay: 1500,
    });
    expect(first?.streamIdToInputInfo.get(0)).toEqual({ inputStreamId: 0, numRecords: 3 });
    expect(second).toMatchObject({
      batchTime: 2000,
      numRecords: 1,
      submissionTime: 2000,
      processingStartTime: 2500,
      schedulingDelay: 500,
      processingDelay: 0,
      totalDelay: 500,
    });
    expect(outputs[0]).toMatchObject({
      id: 0,
      name: "foreachBatch",
      startTime: 1000,
      endTime: 2500,
      duration: 1500,
    });
    expect(outputs[1]).toMatchObject({
      id: 1,
      failureReason: expect.stringMatching(/count sink failed/),
    });
    expect(first?.outputOperationInfos.get(1)?.failureReason).toMatch(/count sink failed/);
    expect(await terminated).toMatchObject({ code: "SLUICE_JOB_FAILED" });
  });

  it("a listener that throws does not break the job", async () => {
    const { ctx, clock } = manualContext();
    const seen: number[][] = [];
    ctx.addListener({
      onBatchStarted: () => {
        throw new Error("listener bug");
      },
    });
    ctx.queueStream([[1]]).foreachBatch((batch) => {
      seen.push(batchRecords(batch));
    });
    const warning = new Promise<Error>((resolve) => process.once("warning", resolve));
    await ctx.start();
    const done = batchCompleted(ctx, 1000);
    clock.advance(1000);
    await done;
    await ctx.stop();
    expect(seen).toEqual([[1]]);
    expect((await warning).message).toMatch(/listener bug/);
  });

  it("with concurrentJobs 2, the next batch starts while the previous one runs", async () => {
    const { ctx, clock } = manualContext({ concurrentJobs: 2 });
    const hold = gate();
    const order: string[] = [];
    ctx.queueStream([[1], [2]]).foreachBatch(async (_batch, time) => {
      order.push(`begin ${time}`);
      if (time === 1000) await hold.promise;
      order.push(`end ${time}`);
    });
    await ctx.start();
    const second = batchCompleted(ctx, 2000);
    clock.advance(2000);
    await second;
    const first = batchCompleted(ctx, 1000);
    hold.open();
    await first;
    await ctx.stop();
    expect(order).toEqual(["begin 1000", "begin 2000", "end 2000", "end 1000"]);
  });
});

describe("stop", () => {
  it("graceful: stops receiving, then processes what was received before resolving", async () => {
    const { ctx, clock } = manualContext();
    const receiver = new PushReceiver();
    const batches: [number, string[]][] = [];
    ctx.receiverStream(receiver).foreachBatch((batch, time) => {
      batches.push([time, batchRecords(batch)]);
    });
    await ctx.start();
    receiver.store(["a", "b"]);
    let resolved = false;
    const stopping = ctx.stop({ graceful: true }).then(() => {
      resolved = true;
    });
    await turn();
    expect(receiver.events).toEqual(["start", "stop"]);
    expect(resolved).toBe(false); // "a", "b" wait for the next batch tick
    expect(ctx.state).toBe("ACTIVE");
    clock.advance(1000);
    await stopping;
    expect(batches).toEqual([[1000, ["a", "b"]]]);
    expect(ctx.state).toBe("STOPPED");
    await expect(ctx.awaitTermination()).resolves.toBeUndefined();
  });

  it("graceful: drains every batch already generated", async () => {
    const { ctx, clock } = manualContext();
    const hold = gate();
    const seen: number[][] = [];
    ctx.queueStream([[1], [2], [3]]).foreachBatch(async (batch, time) => {
      if (time === 1000) await hold.promise;
      seen.push(batchRecords(batch));
    });
    await ctx.start();
    clock.advance(3000);
    await turn();
    const stopping = ctx.stop({ graceful: true });
    hold.open();
    await stopping;
    expect(seen).toEqual([[1], [2], [3]]);
  });

  it("not graceful: finishes the batch in progress and drops the queued ones and unreceived data", async () => {
    const { ctx, clock } = manualContext();
    const hold = gate();
    const seen: number[][] = [];
    ctx.queueStream([[1], [2], [3]]).foreachBatch(async (batch, time) => {
      if (time === 1000) await hold.promise;
      seen.push(batchRecords(batch));
    });
    const receiver = new PushReceiver();
    const received: string[][] = [];
    ctx.receiverStream(receiver).foreachBatch((batch) => {
      received.push(batchRecords(batch));
    });
    await ctx.start();
    clock.advance(3000);
    await turn();
    receiver.store(["late"]);
    const stopping = ctx.stop();
    hold.open();
    await stopping;
    expect(seen).toEqual([[1]]);
    expect(received).toEqual([[]]);
    expect(ctx.state).toBe("STOPPED");
  });

  it("stop while start is still starting inputs waits for the start", async () => {
    const { ctx } = manualContext();
    const opened = gate();
    class SlowStart extends Receiver<number> {
      async onStart(): Promise<void> {
        await opened.promise;
      }
      onStop(): void {}
    }
    ctx.receiverStream(new SlowStart()).foreachBatch(() => {});
    const starting = ctx.start();
    const stopping = ctx.stop();
    opened.open();
    await Promise.all([starting, stopping]);
    expect(ctx.state).toBe("STOPPED");
  });
});

describe("receiver events", () => {
  it("reports started and stopped", async () => {
    const { ctx } = manualContext();
    ctx.receiverStream(new PushReceiver()).foreachBatch(() => {});
    const started = nextEvent(ctx, "onReceiverStarted");
    await ctx.start();
    expect(await started).toMatchObject({ streamId: 0, active: true });
    const stopped = nextEvent(ctx, "onReceiverStopped");
    await ctx.stop();
    expect(await stopped).toMatchObject({
      active: false,
      lastErrorMessage: expect.stringMatching(/stopped by/),
    });
  });
});
