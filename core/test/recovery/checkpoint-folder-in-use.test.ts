// One run per checkpoint folder: a job started on a folder another live process holds is
// refused before it touches anything there, and starts once that process is gone; a run left
// going in the same process when a new one takes the folder over writes nothing more to it.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StreamingContext } from "sluice";
import { afterEach, describe, expect, it } from "vitest";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";
import { buildWordCount, folderPerTest, ManualClock, Outputs, startJob } from "./job-harness.js";
import { killHard, startHolder } from "./lock-test-processes.js";
import { MemoryLog } from "./memory-brokers.js";
import { runBatch } from "./word-count-run.js";

const folder = folderPerTest("sluice-folder-in-use-");
const { running } = folder;
const holders: Awaited<ReturnType<typeof startHolder>>[] = [];

afterEach(async () => {
  for (const holder of holders.splice(0)) await killHard(holder);
});

const job = (log: MemoryLog) => (ctx: StreamingContext) =>
  buildWordCount(ctx, log.plugin(), new Outputs());

/** The folder's files written for batch `time` (its record and its checkpoint). */
async function filesOf(time: number): Promise<string[]> {
  const stamp = String(time).padStart(16, "0");
  return (await readdir(folder.path)).filter((name) => name.includes(stamp)).sort();
}

describe("a checkpoint folder in use", () => {
  it("is refused to a second process, which touches nothing in it, and taken once the holder is killed", async () => {
    const holder = await startHolder(folder.path);
    holders.push(holder);
    // What a first run clears on start (an earlier run's log) must survive a refused start.
    await mkdir(join(folder.path, "wal", "earlier"), { recursive: true });
    await writeFile(join(folder.path, "wal", "earlier", "segment-0000000000000001.wal"), "x");

    const log = new MemoryLog();
    const refused = await startJob(folder.path, new ManualClock(0), job(log)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: "SLUICE_CHECKPOINT_IN_USE" });
    expect((refused as Error).message).toContain(`process ${holder.pid} `);
    expect((await readdir(folder.path)).sort()).toEqual(["owner-0000000001.lock", "wal"]);
    expect(await readdir(join(folder.path, "wal", "earlier"))).toHaveLength(1);

    await killHard(holder);
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, job(log));
    running.push(ctx);
    await runBatch(ctx, clock, log, 0);
    expect(await filesOf(1000)).toEqual([
      "batch-0000000000001000.pending",
      "checkpoint-0000000000001000.ckpt",
    ]);
    await ctx.stop();
    expect((await readdir(folder.path)).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });

  it("fences a run of the same process left going when a new run takes the folder over", async () => {
    const log = new MemoryLog();
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, job(log));
    running.push(first);
    await runBatch(first, clock1, log, 0);
    const failed = first.awaitTermination().then(
      () => undefined,
      (error: unknown) => error,
    );

    const clock2 = new ManualClock(1000);
    const second = await startJob(folder.path, clock2, job(log));
    running.push(second);
    expect(second.recoveryReport?.checkpointTime).toBe(1000);

    // The first run's next batch: it runs, but neither its record nor a checkpoint is written.
    clock1.advance(1000);
    expect(await failed).toMatchObject({ code: "SLUICE_CHECKPOINT_TAKEN_OVER" });
    await first.scope.awaitProcessed(2000);
    expect(await filesOf(2000)).toEqual([]);

    await runBatch(second, clock2, log, 1);
    expect(second.scope.firstError()).toBeUndefined();
    expect(await filesOf(2000)).toEqual([
      "batch-0000000000002000.pending",
      "checkpoint-0000000000002000.ckpt",
    ]);
  });
});

describe("WriteAheadLog with assertWritable", () => {
  it("appends and truncates nothing once its folder was taken over", async () => {
    let takenOver = false;
    const wal = new WriteAheadLog(join(folder.path, "wal"), {
      assertWritable: () => {
        if (takenOver) throw new Error("taken over");
      },
    });
    await wal.open();
    expect(await wal.append(new Uint8Array([1]))).toBe(1);
    takenOver = true;
    await expect(wal.append(new Uint8Array([2]))).rejects.toThrow("taken over");
    await expect(wal.truncateThrough(1)).rejects.toThrow("taken over");
    await wal.close();
    const reopened = new WriteAheadLog(join(folder.path, "wal"));
    const { entries } = await reopened.open();
    expect(entries.map((entry) => [...entry.payload])).toEqual([[1]]);
    await reopened.close();
  });
});
