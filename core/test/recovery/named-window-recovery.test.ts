import type { StreamingContext } from "sluice";
import { JsKernels, type Kernels, NativeKernels } from "sluice/advanced";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { requireNativeBinding } from "../kernels/native-binding.js";
import { ManualClock, Outputs, processed, startJob, temporaryFolder } from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

// The named windowed reductions keep their window in the kernels' WindowAggregator; its
// snapshot goes into checkpoints under the operator's name. A job restored from a checkpoint
// must give what an uninterrupted run gives, also when the restoring process uses the other
// engine (written by the native kernels, read by the TypeScript twin that SLUICE_FORCE_JS=1
// selects, and the other way round).

const LINES = [
  ["a b", "c"],
  ["a a", "bb"],
  [],
  ["b c d", "é"],
  ["a", "d d"],
  ["c"],
  ["e a", "日本 a"],
  ["b"],
  [],
  ["a"],
];

const native = (): Kernels => new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = (): Kernels => new JsKernels();

function build(ctx: StreamingContext, log: MemoryLog, outputs: Outputs): void {
  const records = ctx.source(log.plugin(), {}, { id: "words" });
  const words = records.words();
  outputs.write("counts", words.countByValueAndWindow(3000).name("counts"));
  const lengths = words.map((word): [string, number] => [word, word.length]);
  // A slide of two batches: checkpoints after odd batches fall between two windows.
  outputs.write("sums", lengths.reduceByKeyAndWindow("sum", 4000, 2000).name("sums"));
  outputs.write("max", lengths.reduceByKeyAndWindow("max", 3000, 2000).name("max"));
  // Array keys are of no kernel family: their window state keeps JS ids.
  outputs.write(
    "by-length",
    words
      .map((word): [number[], number] => [[word.length], 1])
      .reduceByKeyAndWindow("count", 3000)
      .name("by-length"),
  );
  outputs.write("total", records.countByWindow(4000, 2000));
}

async function runBatch(ctx: StreamingContext, clock: ManualClock, log: MemoryLog, index: number) {
  for (const line of LINES[index] ?? []) log.append(index % 2 === 0 ? "p0" : "p1", line);
  await until(() => log.caughtUp(), `the source delivered batch ${index}`);
  clock.advance(1000);
  await processed(ctx, (index + 1) * 1000);
}

let folder: { path: string; remove: () => Promise<void> };
const running: StreamingContext[] = [];

beforeEach(async () => {
  folder = await temporaryFolder("sluice-named-window-");
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop().catch(() => undefined);
  await folder.remove();
});

async function uninterrupted(kernels: Kernels): Promise<Outputs> {
  const reference = await temporaryFolder("sluice-named-window-reference-");
  const log = new MemoryLog();
  const outputs = new Outputs();
  const clock = new ManualClock(0);
  const ctx = await startJob(reference.path, clock, (c) => build(c, log, outputs), {}, 1000, {
    kernels,
  });
  for (let index = 0; index < LINES.length; index++) await runBatch(ctx, clock, log, index);
  await ctx.stop();
  await reference.remove();
  return outputs;
}

describe("named windows across a restart", () => {
  for (const [written, restored] of [
    ["native", "js"],
    ["js", "native"],
  ] as const) {
    it(`restore the window state written by the ${written} kernels with the ${restored} kernels`, async () => {
      const engines = { native, js };
      const expected = await uninterrupted(engines[written]());
      // Both engines give the same outputs without a restart.
      const other = await uninterrupted(engines[restored]());
      for (const label of expected.byLabel.keys()) {
        expect(other.batches(label), label).toEqual(expected.batches(label));
      }

      const log = new MemoryLog();
      const outputs = new Outputs();
      // Five batches: the last checkpoint (5000 ms) falls between two windows of "sums".
      const firstClock = new ManualClock(0);
      const first = await startJob(
        folder.path,
        firstClock,
        (c) => build(c, log, outputs),
        {},
        1000,
        {
          kernels: engines[written](),
        },
      );
      running.push(first);
      for (let index = 0; index < 5; index++) await runBatch(first, firstClock, log, index);
      log.crash();

      const clock = new ManualClock(5000);
      const second = await startJob(folder.path, clock, (c) => build(c, log, outputs), {}, 1000, {
        kernels: engines[restored](),
      });
      running.push(second);
      expect(second.recoveryReport).toMatchObject({
        checkpointTime: 5000,
        droppedState: [],
        operatorsWithoutState: [],
      });
      expect([...(second.recoveryReport?.restoredOperators ?? [])].sort()).toEqual([
        "by-length",
        "counts",
        "max",
        "reduceByKeyAndWindow#0",
        "sums",
      ]);
      for (let index = 5; index < LINES.length; index++) {
        await runBatch(second, clock, log, index);
      }
      for (const label of expected.byLabel.keys()) {
        expect(outputs.batches(label), label).toEqual(expected.batches(label));
      }
      expect(outputs.batches("sums").length).toBe(LINES.length / 2);
    });
  }

  it("drops the saved window when the window changed, and says why", async () => {
    const log = new MemoryLog();
    const outputs = new Outputs();
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, (c) => build(c, log, outputs));
    running.push(first);
    for (let index = 0; index < 2; index++) await runBatch(first, clock, log, index);
    log.crash();

    const changed = (ctx: StreamingContext): void => {
      const words = ctx.source(log.plugin(), {}, { id: "words" }).words();
      outputs.write("counts", words.countByValueAndWindow(5000).name("counts"));
    };
    const second = await startJob(folder.path, new ManualClock(2000), changed);
    running.push(second);
    expect(second.recoveryReport?.droppedState).toContainEqual({
      name: "counts",
      reason: expect.stringContaining('reduceByKeyAndWindow("sum", 5000 ms'),
    });
  });
});
