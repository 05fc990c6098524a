import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StreamingContext } from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { secondRunAfterLostAcks } from "./copies-job.js";
import {
  buildWordCount,
  folderPerTest,
  ManualClock,
  Outputs,
  processed,
  startJob,
} from "./job-harness.js";
import { MemoryLog, MemoryQueue, until } from "./memory-brokers.js";
import { expectSameOutputs, LINES, runBatch, uninterrupted } from "./word-count-run.js";

const folder = folderPerTest("sluice-recovery-");
const { running } = folder;

describe("getOrCreate and the commit protocol", () => {
  it("resumes state, windows and offsets after a crash: the outputs equal an uninterrupted run", async () => {
    const expected = await uninterrupted();
    const log = new MemoryLog();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);

    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build);
    running.push(first);
    expect(first.recoveryReport).toBeUndefined();
    for (let index = 0; index < 4; index++) await runBatch(first, clock1, log, index);
    // Offsets are acknowledged only once a checkpoint covers them.
    expect(log.acked.get("p1")).toBe(2);
    log.crash();

    const clock2 = new ManualClock(4000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    expect(second.recoveryReport).toMatchObject({
      checkpointTime: 4000,
      replayedBatches: [],
      droppedState: [],
      operatorsWithoutState: [],
      resumedInputs: ["words"],
    });
    expect([...(second.recoveryReport?.restoredOperators ?? [])].sort()).toEqual([
      "mapWithState#0",
      "reduceByKeyAndWindow#0",
      "updateStateByKey#0",
      "window#0",
    ]);
    for (let index = 4; index < LINES.length; index++) await runBatch(second, clock2, log, index);
    expectSameOutputs(outputs, expected);
  });

  it("replays exactly a batch whose outputs ran but whose checkpoint was never written", async () => {
    const expected = await uninterrupted();
    const log = new MemoryLog();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);
    const fs = new FaultInjectingFileSystem();

    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build, { fileSystem: fs });
    running.push(first);
    for (let index = 0; index < 4; index++) await runBatch(first, clock1, log, index);
    // Batch 5000 is recorded, then the disk fills: its outputs run, its checkpoint fails.
    first.addListener({ onBatchStarted: () => fs.fillDisk() });
    for (const line of LINES[4] ?? []) log.append("p0", line);
    await until(() => log.caughtUp(), "batch 5000 delivered");
    clock1.advance(1000);
    await first.scope.awaitProcessed(5000);
    expect(first.scope.firstError()).toMatchObject({
      code: "SLUICE_CHECKPOINT_WRITE_FAILED",
    });
    expect(outputs.batches("totals").at(-1)?.[0]).toBe(5000);
    expect(log.acked.get("p0")).toBe(2); // batch 5000's records (p0 offsets 3-4) were not acknowledged
    // The next batch's records arrive, then the process dies.
    for (const line of LINES[5] ?? []) log.append("p1", line);
    await until(() => log.caughtUp(), "batch 6000 delivered");
    log.crash();

    const clock2 = new ManualClock(5000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    await processed(second, 5000);
    expect(second.recoveryReport).toMatchObject({
      checkpointTime: 4000,
      replayedBatches: [5000],
      replayProblems: [],
    });
    clock2.advance(1000);
    await processed(second, 6000);
    for (let index = 6; index < LINES.length; index++) await runBatch(second, clock2, log, index);
    expectSameOutputs(outputs, expected);
    expect(log.acked.get("p0")).toBe(5);
  });

  it("falls back to the previous checkpoint when the newest is damaged, and says so", async () => {
    const expected = await uninterrupted();
    const log = new MemoryLog();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build);
    running.push(first);
    for (let index = 0; index < 4; index++) await runBatch(first, clock1, log, index);
    log.crash();
    const newest = join(folder.path, "checkpoint-0000000000004000.ckpt");
    const bytes = await readFile(newest);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0x5a;
    await writeFile(newest, bytes);

    const clock2 = new ManualClock(4000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    await processed(second, 4000);
    const report = second.recoveryReport;
    expect(report?.checkpointTime).toBe(3000);
    expect(report?.skippedCheckpoints).toEqual([
      { name: newest, reason: expect.stringContaining("checksum mismatch") },
    ]);
    expect(report?.replayedBatches).toEqual([4000]);
    for (let index = 4; index < LINES.length; index++) await runBatch(second, clock2, log, index);
    expectSameOutputs(outputs, expected);
  });

  it("refuses a folder whose every checkpoint is damaged", async () => {
    const log = new MemoryLog();
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, (ctx) =>
      buildWordCount(ctx, log.plugin(), new Outputs()),
    );
    running.push(first);
    await runBatch(first, clock, log, 0);
    for (const name of await readdir(folder.path)) {
      if (name.endsWith(".ckpt")) await writeFile(join(folder.path, name), "garbage");
    }
    await expect(
      StreamingContext.getOrCreate(
        folder.path,
        () => new StreamingContext({ batchInterval: 1000 }),
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_CHECKPOINT_CORRUPT",
      message: expect.stringContaining("no intact checkpoint"),
    });
  });

  it("restores the operators a changed job kept, and reports the state it dropped", async () => {
    const log = new MemoryLog();
    const outputs = new Outputs();
    const names = { totals: "totals", recent: "recent", sessions: "sessions" };
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, (ctx) =>
      buildWordCount(ctx, log.plugin(), outputs, names),
    );
    running.push(first);
    for (let index = 0; index < 3; index++) await runBatch(first, clock1, log, index);
    log.crash();

    const clock2 = new ManualClock(3000);
    const second = await startJob(folder.path, clock2, (ctx) =>
      buildWordCount(ctx, log.plugin(), outputs, { ...names, totals: "running-totals" }),
    );
    running.push(second);
    const report = second.recoveryReport;
    expect([...(report?.restoredOperators ?? [])].sort()).toEqual([
      "recent",
      "sessions",
      "window#0",
    ]);
    expect(report?.droppedState).toEqual([
      {
        name: "totals",
        reason: expect.stringContaining("no updateStateByKey operator of the job has this name"),
      },
    ]);
    expect(report?.operatorsWithoutState).toEqual([
      { name: "running-totals", reason: expect.stringContaining("no state under this name") },
    ]);
    await runBatch(second, clock2, log, 3);
    // The renamed totals start over; the kept mapWithState state carried on.
    expect(outputs.batches("totals").at(-1)).toEqual([
      4000,
      [
        ["b", 1],
        ["c", 1],
        ["d", 1],
      ],
    ]);
    expect(outputs.batches("sessions").at(-1)).toEqual([
      4000,
      [
        ["a", 3],
        ["b", 2],
        ["c", 2],
        ["d", 1],
      ],
    ]);
  });

  it("refuses state that v8.serialize cannot store, naming the operator", async () => {
    const log = new MemoryLog();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, (c) => {
      c.source(log.plugin(), {})
        .map((record): [string, number] => [String(record.offset), 1])
        .updateStateByKey(() => () => "a function is no state")
        .name("callbacks")
        .foreachBatch(() => undefined);
    });
    running.push(ctx);
    log.append("p0", "x");
    await until(() => log.caughtUp(), "delivered");
    clock.advance(1000);
    await expect(processed(ctx, 1000)).rejects.toMatchObject({
      code: "SLUICE_STATE_NOT_SERIALIZABLE",
      message: expect.stringMatching(/"callbacks" \(updateStateByKey\) at 1000 ms.*plain data/),
    });
    expect(log.acked.size).toBe(0);
  });
});

describe("write-ahead log for sources that cannot replay", () => {
  it("acknowledges records once logged, and replays the log after a crash", async () => {
    const queue = new MemoryQueue();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) => {
      const pairs = ctx
        .source(queue.plugin(), {}, { id: "queue" })
        .map((record): [string, number] => [new TextDecoder().decode(record.value), 1]);
      outputs.write(
        "totals",
        pairs.updateStateByKey((values: number[], total: number | undefined) =>
          values.reduce((a, b) => a + b, total ?? 0),
        ),
      );
    };
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build);
    running.push(first);
    queue.publish("a", "b");
    await until(() => queue.acked === 2, "logged and acknowledged");
    clock1.advance(1000);
    await processed(first, 1000);
    // Logged and acknowledged to the broker, but in no batch yet: only the log has them now.
    queue.publish("a", "c");
    await until(() => queue.acked === 4, "logged and acknowledged");
    queue.crash();
    expect(queue.readyCount).toBe(0);

    const clock2 = new ManualClock(1000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    expect(second.recoveryReport?.resumedInputs).toEqual(["queue"]);
    clock2.advance(1000);
    await processed(second, 2000);
    expect(outputs.batches("totals")).toEqual([
      [
        1000,
        [
          ["a", 1],
          ["b", 1],
        ],
      ],
      [
        2000,
        [
          ["a", 2],
          ["b", 1],
          ["c", 1],
        ],
      ],
    ]);
    // The log was truncated behind the checkpoints: only the newest entries stay.
    await second.stop();
    const segments = await readdir(join(folder.path, "wal", "queue"));
    expect(segments.length).toBeLessThanOrEqual(1);
  });

  it("replays a logged source's empty batch as empty, and its full ones from the log", async () => {
    const queue = new MemoryQueue();
    const outputs = new Outputs();
    const build = (ctx: StreamingContext) =>
      outputs.write(
        "records",
        ctx
          .source(queue.plugin(), {}, { id: "queue" })
          .map((record) => new TextDecoder().decode(record.value)),
      );
    const fs = new FaultInjectingFileSystem();
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build, { fileSystem: fs });
    running.push(first);
    queue.publish("x");
    await until(() => queue.acked === 1, "logged");
    // Batches 1000 (one record) and 2000 (none) run, but neither is checkpointed.
    fs.fillDisk({ only: (path) => path.includes(".checkpoint-") });
    clock1.advance(2000);
    await first.scope.awaitProcessed(2000);
    expect(first.scope.firstError()).toMatchObject({
      code: "SLUICE_CHECKPOINT_WRITE_FAILED",
    });
    queue.crash();

    const second = await startJob(folder.path, new ManualClock(2000), build);
    running.push(second);
    await processed(second, 2000);
    expect(second.recoveryReport?.replayedBatches).toEqual([1000, 2000]);
    expect(outputs.batches("records")).toEqual([
      [1000, ["x"]],
      [2000, []],
    ]);
  });

  it("drops redelivered copies of records already in the log when the source names records", async () => {
    // The broker sends the copies again.
    const {
      queue,
      outputs,
      second,
      clock: clock2,
    } = await secondRunAfterLostAcks(folder.path, running, false);
    await until(() => queue.acked === 3, "the copies acknowledged");
    queue.publish("b#4");
    await until(() => queue.acked === 4, "logged and acknowledged");
    // Flow control's queue counts the one record the log kept, not the dropped copies.
    const secondInput = second.scope.graph.inputs[0] as SourceInputDStream;
    expect(secondInput.flow.queuedRecords).toBe(1);
    clock2.advance(1000);
    await processed(second, 1000);
    expect(outputs.batches("totals")).toEqual([
      [
        1000,
        [
          ["a", 2],
          ["b", 2],
        ],
      ],
    ]);
  });

  it("drops copies the broker sends late, after the log let go of the records it replayed", async () => {
    // The broker holds the copies back (its consumer connects late, say) ...
    const run = await secondRunAfterLostAcks(folder.path, running, true);
    const { queue, outputs, second, clock: clock2, held: late } = run;
    expect(late?.values).toEqual(["a#1", "b#2", "a#3"]);
    const firstSegment = "segment-0000000000000001.wal";
    expect(await readdir(join(folder.path, "wal", "queue"))).toContain(firstSegment);
    // ... while the run replays them from the log, checkpoints them, and the log lets them go.
    for (let time = 1000; time <= 5000; time += 1000) {
      clock2.advance(1000);
      await processed(second, time);
    }
    expect(await readdir(join(folder.path, "wal", "queue"))).not.toContain(firstSegment);
    queue.publish(...(late?.values ?? []));
    await until(() => queue.acked === 3, "the late copies acknowledged");
    clock2.advance(1000);
    await processed(second, 6000);
    expect(outputs.batches("totals").at(-1)).toEqual([
      6000,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
  });

  it("reports a full disk as SLUICE_DISK_FULL and leaves the records with the broker", async () => {
    const queue = new MemoryQueue();
    const fs = new FaultInjectingFileSystem();
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      (c) => c.source(queue.plugin(), {}, { id: "queue" }).foreachBatch(() => undefined),
      { fileSystem: fs },
    );
    running.push(ctx);
    fs.fillDisk({ freeBytes: 0 });
    queue.publish("x", "y", "z");
    await until(() => ctx.scope.firstError() !== undefined, "the log write failed");
    expect(ctx.scope.firstError()).toMatchObject({
      code: "SLUICE_DISK_FULL",
      message: expect.stringMatching(/write-ahead log .*queue.*disk is full \(ENOSPC\)/),
    });
    expect(queue.acked).toBe(0);
    expect(queue.nacked).toBe(3);
    expect(queue.readyCount).toBe(3);
  });
});
