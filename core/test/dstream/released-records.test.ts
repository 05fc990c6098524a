// A columnar batch's decoded JS values go once its batch completed when no later batch reads it
// (so they die young instead of being copied into old space a batch later); a batch a window
// reads later keeps them; read again, the columns decode to equal values.
import { type Batch, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import { batchCompleted } from "../streaming/events.js";

async function runTicks(ctx: StreamingContext, clock: ManualClock, ticks: number): Promise<void> {
  await ctx.start();
  for (let tick = 0; tick < ticks; tick++) {
    const done = batchCompleted(ctx, clock.now() + 1000);
    clock.advance(1000);
    await done;
  }
  await ctx.stop();
}

describe("decoded records of columnar batches", () => {
  it("are let go once the batch completed, and decode again to equal values", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const seen: Array<{ batch: Batch<[string, number]>; records: unknown }> = [];
    ctx
      .queueStream([["a b a"], ["b c"]])
      .words()
      .countByValue()
      .foreachBatch((batch) => {
        seen.push({ batch, records: structuredClone(batch.partitions) });
      });
    await runTicks(ctx, clock, 2);
    expect(seen).toHaveLength(2);
    for (const { batch, records } of seen) {
      expect(batch).toBeInstanceOf(ColumnarBatch);
      expect((batch as ColumnarBatch<[string, number]>).isMaterialised).toBe(false);
      expect(batch.partitions).toEqual(records);
    }
    expect(seen.map(({ records }) => (records as unknown[][]).flat())).toEqual([
      [
        ["a", 2],
        ["b", 1],
      ],
      [
        ["b", 1],
        ["c", 1],
      ],
    ]);
  });

  it("are kept for batches a window reads again", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const words = ctx.queueStream([["a b"], ["c"], ["d"]]).words();
    const kept: Batch<string>[] = [];
    words.foreachBatch((batch) => {
      kept.push(batch);
    });
    const windows: string[][] = [];
    words.window(2000).foreachBatch((batch) => {
      windows.push(batch.partitions.flat());
    });
    await runTicks(ctx, clock, 3);
    expect(windows).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
      ["c", "d"],
    ]);
    // The newest batch is still in the window's reach: decoded once, kept.
    const last = kept.at(-1) as ColumnarBatch<string>;
    expect(last).toBeInstanceOf(ColumnarBatch);
    expect(last.isMaterialised).toBe(true);
  });
});
