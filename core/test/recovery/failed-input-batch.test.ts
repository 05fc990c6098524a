// A tick whose input cannot be computed (Spark's generateJobs failing) runs no job: it is a failed
// batch. What the other inputs took for it was never output, so it must not be acknowledged, as
// it would be if the tick counted as a batch that ran: by the next checkpoint, or without
// checkpointing as soon as the tick is over.
import { batchRecords, InputDStream, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryStream } from "./memory-stream.js";

const folder = folderPerTest("sluice-failed-input-");
const { running } = folder;
const decoder = new TextDecoder();

/** Lets the acknowledgements Sluice settles asynchronously reach the in-memory server. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** An input whose batch at `failAt` cannot be computed (a folder that cannot be listed). */
class FailingInput extends InputDStream<string> {
  constructor(
    ctx: StreamingContext,
    private readonly failAt: number,
  ) {
    super(ctx);
  }

  protected async computeInput(time: number) {
    if (time === this.failAt) throw new Error(`the input of ${time} cannot be listed`);
    return { time, partitions: [] };
  }
}

/** The stream's values per batch, beside an input that fails at 2000. */
function withFailingInput(stream: MemoryStream, outputs: Map<number, string[]>) {
  return (ctx: StreamingContext) => {
    ctx
      .source(stream.plugin(), {}, { id: "stream" })
      .map((record) => decoder.decode(record.value))
      .foreachBatch((batch, time) => {
        outputs.set(time, batchRecords(batch));
      });
    new FailingInput(ctx, 2000).foreachBatch(() => undefined);
  };
}

describe("a batch whose input cannot be computed", () => {
  it("is a failed batch under checkpointing: what the other inputs took is not acknowledged, and a restart outputs it", async () => {
    const stream = new MemoryStream();
    const outputs = new Map<number, string[]>();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, withFailingInput(stream, outputs));
    running.push(ctx);
    for (const [time, value] of [
      [1000, "a"],
      [2000, "b"],
      [3000, "c"],
    ] as const) {
      stream.append("p0", value);
      await until(() => stream.caughtUp(), `${value} read`);
      clock.advance(1000);
      await ctx.scope.awaitProcessed(time);
    }
    await settled();
    expect(ctx.scope.firstError()).toMatchObject({
      message: expect.stringContaining("the input of 2000 cannot be listed"),
    });
    expect([...outputs.keys()]).toEqual([1000, 3000]);
    // Only a, output at 1000 and checkpointed then; b was taken at 2000 and never output.
    expect(stream.acknowledged).toBe(1);
    stream.crash();

    const again = await startJob(folder.path, new ManualClock(3000), (job: StreamingContext) => {
      job
        .source(stream.plugin(), {}, { id: "stream" })
        .map((record) => decoder.decode(record.value))
        .foreachBatch((batch, time) => {
          outputs.set(time, batchRecords(batch));
        });
    });
    running.push(again);
    await processed(again, 3000);
    expect(again.recoveryReport?.checkpointTime).toBe(1000);
    const afterRestart = [...outputs]
      .filter(([time]) => time >= 2000)
      .flatMap(([, values]) => values);
    expect(afterRestart).toContain("b");
  });

  it("without checkpointing nacks what the other inputs took, which comes again and is output", async () => {
    const stream = new MemoryStream();
    const outputs = new Map<number, string[]>();
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    withFailingInput(stream, outputs)(ctx);
    await ctx.start();
    running.push(ctx);
    clock.advance(1000);
    await ctx.scope.awaitProcessed(1000);
    stream.append("p0", "b");
    await until(() => stream.caughtUp(), "b read");
    clock.advance(1000);
    await ctx.scope.awaitProcessed(2000);
    await settled();
    expect(ctx.scope.firstError()).toBeDefined();
    expect(stream.acknowledged).toBe(0);
    clock.advance(1000);
    await ctx.scope.awaitProcessed(3000);
    await settled();
    expect(outputs.get(3000)).toEqual(["b"]);
    expect(stream.acknowledged).toBe(1);
  });
});
