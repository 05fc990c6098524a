import { type BatchInfo, type OutputOperationInfo, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { ListenerBus } from "../../src/scheduler/listener-bus.js";
import { batchCompleted, gate, turn } from "./events.js";

// The scheduler builds its listener events only for a listener that handles them; these tests
// hold what every listener still sees.

describe("ListenerBus.listens", () => {
  it("is true only while a registered listener handles the event, looked up at each call", () => {
    const bus = new ListenerBus();
    expect(bus.listens("onBatchStarted")).toBe(false);
    const listener: { onBatchStarted?: (info: BatchInfo) => void } = {};
    bus.add(listener);
    expect(bus.listens("onBatchStarted")).toBe(false);
    listener.onBatchStarted = () => {};
    expect(bus.listens("onBatchStarted")).toBe(true);
    expect(bus.listens("onBatchCompleted")).toBe(false);
    bus.remove(listener);
    expect(bus.listens("onBatchStarted")).toBe(false);
  });
});

describe("scheduler events for listeners of some events only", () => {
  it("gives a listener of onBatchCompleted alone every output's start, end and records", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 10, clock });
    const stream = ctx.queueStream([["a", "b", "c"], ["d"]]);
    stream.foreachBatch(() => {});
    stream.map((value) => value.toUpperCase()).foreachBatch(() => {});
    const completed: BatchInfo[] = [];
    ctx.addListener({ onBatchCompleted: (info) => completed.push(info) });
    await ctx.start();
    const second = batchCompleted(ctx, 20);
    clock.advance(20);
    await second;
    await ctx.stop();
    expect(completed.map((info) => [info.batchTime, info.numRecords])).toEqual([
      [10, 3],
      [20, 1],
    ]);
    for (const info of completed) {
      expect([...info.outputOperationInfos.keys()]).toEqual([0, 1]);
      for (const output of info.outputOperationInfos.values()) {
        expect(output.batchTime).toBe(info.batchTime);
        expect(output.startTime).toBeDefined();
        expect(output.endTime).toBeGreaterThanOrEqual(output.startTime as number);
        expect(output.failureReason).toBeUndefined();
      }
      expect(info.processingStartTime).toBeDefined();
      expect(info.schedulingDelay).toBeGreaterThanOrEqual(0);
    }
  });

  it("sends every event to a listener added while a batch runs, from its next event on", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 10, clock });
    const hold = gate();
    const entered = gate();
    const stream = ctx.queueStream([["a"], ["b"]]);
    stream.foreachBatch(async (_batch, time) => {
      if (time === 10) {
        entered.open();
        await hold.promise;
      }
    });
    stream.foreachBatch(() => {});
    await ctx.start();
    clock.advance(10);
    await entered.promise;
    // Batch 10 is inside its first output: the listener sees that output end, the second
    // output run, the batch complete, and all of batch 20.
    const events: string[] = [];
    const outputs: OutputOperationInfo[] = [];
    ctx.addListener({
      onBatchSubmitted: (info) => events.push(`submitted ${info.batchTime}`),
      onBatchStarted: (info) => events.push(`started ${info.batchTime}`),
      onOutputOperationStarted: (info) => events.push(`op ${info.id} started ${info.batchTime}`),
      onOutputOperationCompleted: (info) => {
        events.push(`op ${info.id} completed ${info.batchTime}`);
        outputs.push(info);
      },
      onBatchCompleted: (info) => events.push(`completed ${info.batchTime}`),
    });
    const second = batchCompleted(ctx, 20);
    clock.advance(10);
    await turn();
    hold.open();
    await second;
    await ctx.stop();
    expect(events).toEqual([
      "submitted 20",
      "op 0 completed 10",
      "op 1 started 10",
      "op 1 completed 10",
      "completed 10",
      "started 20",
      "op 0 started 20",
      "op 0 completed 20",
      "op 1 started 20",
      "op 1 completed 20",
      "completed 20",
    ]);
    expect(outputs.map((info) => info.numRecords)).toEqual([1, 1, 1, 1]);
  });
});
