// A batch's windows' parents (the streams whose batch a window reads again later) start before
// its outputs and run beside them: an output that does not need a parent's batch (or a window
// taking out the panes that left it) goes on meanwhile, and the batch completes only once both
// are done. A failed parent stays the batch's failure for the output that reads it.
import { describe, expect, it } from "vitest";
import type { DStream } from "../../src/dstream/dstream.js";
import type { ForEachDStream } from "../../src/dstream/for-each-dstream.js";
import { until } from "../recovery/memory-brokers.js";
import { gate, turn } from "./events.js";
import { fakeScheduler } from "./fake-scheduler.js";

function harness() {
  const events: string[] = [];
  const scheduler = fakeScheduler(events, {
    reportError: (error) => events.push(`error ${(error as Error).message}`),
  });
  const parent = (name: string, done: Promise<void>) =>
    ({
      computeAhead: async (time: number) => {
        events.push(`${name} ${time} started`);
        await done;
        events.push(`${name} ${time} done`);
      },
    }) as unknown as DStream<unknown>;
  const output = (run: (time: number) => Promise<void>) =>
    ({
      outputId: 0,
      operation: "foreachBatch",
      run: async (time: number) => {
        events.push(`output ${time} started`);
        await run(time);
        events.push(`output ${time} done`);
        return 0;
      },
    }) as unknown as ForEachDStream<unknown>;
  return { scheduler, events, parent, output };
}

describe("windows' parents computed ahead run beside the batch's outputs", () => {
  it("starts the parents first, runs the output meanwhile, and completes the batch after both", async () => {
    const { scheduler, events, parent, output } = harness();
    const first = gate();
    const second = gate();
    scheduler.submit(1000, [output(async () => undefined)], new Map(), [
      parent("reduced", first.promise),
      parent("counted", second.promise),
    ]);
    await turn();
    // Both parents started at once, and the output ran to its end while they were held.
    expect(events).toEqual([
      "reduced 1000 started",
      "counted 1000 started",
      "output 1000 started",
      "output 1000 done",
    ]);
    second.open();
    await turn();
    expect(events).not.toContain("inputs told 1000");
    first.open();
    await until(() => scheduler.isIdle(), "the batch completed");
    expect(events.slice(4)).toEqual(["counted 1000 done", "reduced 1000 done", "inputs told 1000"]);
  });

  it("the next batch starts only once this batch's parents are done", async () => {
    const { scheduler, events, parent, output } = harness();
    const held = gate();
    scheduler.submit(1000, [output(async () => undefined)], new Map(), [
      parent("reduced", held.promise),
    ]);
    scheduler.submit(2000, [output(async () => undefined)], new Map(), [
      parent("reduced", Promise.resolve()),
    ]);
    await turn();
    expect(events).not.toContain("reduced 2000 started");
    held.open();
    await until(() => scheduler.isIdle(), "both batches completed");
    expect(events.indexOf("reduced 2000 started")).toBeGreaterThan(
      events.indexOf("inputs told 1000"),
    );
  });
});
