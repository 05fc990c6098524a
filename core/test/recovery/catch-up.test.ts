// A restart after a long gap: the batches of the down time are generated one after the other
// (as Spark does), but checkpoints are written at most once per catch-up interval of batch
// time while the job is behind its clock, so catching up is not one fsynced checkpoint per batch.
import type { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

const decoder = new TextDecoder();
const INTERVAL = 200;
const folder = folderPerTest("sluice-catch-up-");
const { running } = folder;

function build(log: MemoryLog, outputs: Outputs) {
  return (ctx: StreamingContext) =>
    outputs.write(
      "totals",
      ctx
        .source(log.plugin(), {}, { id: "words" })
        .map((record): [string, number] => [decoder.decode(record.value), 1])
        .updateStateByKey((values: number[], total: number | undefined) =>
          values.reduce((a, b) => a + b, total ?? 0),
        ),
    );
}

const checkpointsWritten = (fs: FaultInjectingFileSystem) =>
  fs.steps.filter(({ step, path }) => step === "rename" && /checkpoint-\d+\.ckpt$/.test(path))
    .length;

describe("a restart after a long gap", () => {
  it("catches up with a checkpoint per catch-up interval, not per batch", async () => {
    const log = new MemoryLog();
    const outputs = new Outputs();
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build(log, outputs), {}, INTERVAL);
    running.push(first);
    log.append("p0", "a");
    await until(() => log.caughtUp(), "delivered");
    clock1.advance(INTERVAL);
    await processed(first, INTERVAL);
    await first.stop();
    running.splice(0);

    // Ten minutes later.
    const gap = 600_000;
    const fs = new FaultInjectingFileSystem();
    const clock2 = new ManualClock(INTERVAL + gap);
    const second = await startJob(
      folder.path,
      clock2,
      build(log, outputs),
      { fileSystem: fs },
      INTERVAL,
    );
    running.push(second);
    log.append("p0", "a");
    await processed(second, INTERVAL + gap);
    // 3 000 batches of down time; 10 s of batch time per checkpoint while behind, and the
    // batch that is current again.
    expect(checkpointsWritten(fs)).toBeGreaterThanOrEqual(gap / 10_000);
    expect(checkpointsWritten(fs)).toBeLessThanOrEqual(gap / 10_000 + 2);
    const totals = outputs.batches("totals");
    expect(totals.at(-1)).toEqual([INTERVAL + gap, [["a", 2]]]);
    expect(second.recoveryReport?.checkpointTime).toBe(INTERVAL);

    // Caught up, every batch is checkpointed again.
    const before = checkpointsWritten(fs);
    for (let batch = 1; batch <= 3; batch++) {
      clock2.advance(INTERVAL);
      await processed(second, INTERVAL + gap + batch * INTERVAL);
    }
    expect(checkpointsWritten(fs) - before).toBe(3);
  }, 600_000);
});
