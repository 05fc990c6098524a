// A graceful stop asked for right after a restart still runs the batches the crashed run had
// recorded: those may have had part of their outputs written before the crash (a file sink's
// partition 0 but not partition 1), and only their replay completes them. Stopping before the
// replay left such a batch half-written until some later run (seen as the totals of one batch
// holding only one partition's words).
import type { StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import {
  buildWordCount,
  folderPerTest,
  ManualClock,
  Outputs,
  processed,
  startJob,
} from "./job-harness.js";
import { MemoryLog } from "./memory-brokers.js";
import { LINES, runBatch } from "./word-count-run.js";

const folder = folderPerTest("sluice-graceful-replays-");
const { running } = folder;

describe("a graceful stop right after a restart", () => {
  it("first replays every batch the crashed run recorded, those without records too", async () => {
    const log = new MemoryLog();
    const build = (outputs: Outputs) => (ctx: StreamingContext) =>
      buildWordCount(ctx, log.plugin(), outputs);

    // Checkpoints every 10 s of batch time: batches 1000 to 5000 are recorded, not checkpointed;
    // from 3000 on they bring no record (the state's outputs still change nothing but are due).
    const clock1 = new ManualClock(0);
    const written = new Outputs();
    const first = await startJob(folder.path, clock1, build(written), { interval: "10s" });
    running.push(first);
    for (let index = 0; index < 3; index++) await runBatch(first, clock1, log, index);
    expect(LINES[2]).toEqual([]);
    for (const time of [4000, 5000]) {
      clock1.advance(1000);
      await processed(first, time);
    }
    log.crash();

    const replayed = new Outputs();
    const second = await startJob(folder.path, new ManualClock(5000), build(replayed), {
      interval: "10s",
    });
    running.push(second);
    expect(second.recoveryReport?.replayedBatches).toEqual([1000, 2000, 3000, 4000, 5000]);
    await second.stop({ graceful: true });

    expect(second.scope.firstError()).toBeUndefined();
    expect(second.recoveryReport?.replayProblems).toEqual([]);
    for (const label of ["totals", "recent"]) {
      expect(written.batches(label).at(-1)?.[0], label).toBe(5000);
      expect(replayed.batches(label), label).toEqual(written.batches(label));
    }
  });
});
