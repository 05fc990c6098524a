import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchInfo, createJobContext, type StreamingContext } from "sluice";
import { ExecutorPool } from "sluice/advanced";
import { executorThreadIds, ManualClock } from "sluice/testing";
import { afterAll, afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { TaskAttemptError } from "../../src/execution/executor-pool.js";
import type { TaskSpec } from "../../src/execution/messages.js";
import { batchCompleted } from "../streaming/events.js";
import { collections, type KeptArgs, lines, outputs } from "./jobs/kept.js";

const JOBS = new URL("./jobs/kept.ts", import.meta.url);
const WORDS = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu"];

/** 200 lines of 1–5 words (enough for a partition to cross as one string when shipped). */
function someLines(seed: number): string[] {
  return Array.from({ length: 200 }, (_, i) =>
    Array.from({ length: 1 + ((i + seed) % 5) }, (_, j) => WORDS[(i * 3 + j + seed) % 7]).join(" "),
  );
}

/** The word count of `batch`, sorted by word: what every batch over it must output. */
function countsOf(batch: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const line of batch) {
    for (const word of line.split(" ")) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** What keptWordCount outputs over `batches`: each collection's counts, once per batch taking it. */
function takenTwice(batches: readonly string[][]): [string, number][][] {
  return batches.flatMap((batch) => [countsOf(batch), countsOf(batch)]);
}

interface Job {
  readonly ctx: StreamingContext;
  readonly clock: ManualClock;
  readonly completed: BatchInfo[];
  readonly tasks: MockInstance<ExecutorPool["runTask"]>;
}

const pool = new ExecutorPool({ threads: 2 });
const running: StreamingContext[] = [];

afterAll(async () => {
  await pool.close();
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
  vi.restoreAllMocks();
});

/** Starts keptWordCount under local[2] on a manual clock, its collections made of `batches`. */
async function startJob(args: KeptArgs, batches: string[][]): Promise<Job> {
  lines.set(args.name, batches);
  const clock = new ManualClock(0);
  const ctx = await createJobContext(
    { module: JOBS, exportName: "keptWordCount", args },
    { batchInterval: 1000, clock, master: "local[2]", executorPool: pool },
  );
  running.push(ctx);
  const completed: BatchInfo[] = [];
  ctx.addListener({ onBatchCompleted: (info) => completed.push(info) });
  const tasks = vi.spyOn(pool, "runTask");
  await ctx.start();
  return { ctx, clock, completed, tasks };
}

async function runBatch(job: Job, time: number): Promise<void> {
  const done = batchCompleted(job.ctx, time);
  job.clock.advance(time - job.clock.now());
  await done;
}

/** The map tasks the driver sent for the batch at `time`: partition, input kind, thread asked for. */
function mapTasksAt(
  job: Job,
  time: number,
): { partition: number; input: string; threadId: number | undefined }[] {
  return job.tasks.mock.calls
    .filter(([task]) => task.time === time && task.output.kind === "shuffle-write")
    .map(([task, threadId]: [TaskSpec, number?]) => ({
      partition: task.partition,
      input: task.input.kind,
      threadId,
    }))
    .sort((a, b) => a.partition - b.partition);
}

describe("a persisted collection under local[2]", () => {
  it("is kept on the executors, its partitions spread over them, and its batches' map tasks run where the partitions are", async () => {
    const batches = [someLines(0), someLines(1)];
    const puts = vi.spyOn(pool, "putBlock");
    const job = await startJob({ name: "kept" }, batches);
    // Placed when the executors started, before any batch: two collections of two partitions.
    expect(puts).toHaveBeenCalledTimes(4);
    const threads = executorThreadIds(job.ctx);
    for (const time of [1000, 2000, 3000, 4000]) await runBatch(job, time);
    expect(outputs.get("kept")).toEqual(takenTwice(batches));
    expect(puts).toHaveBeenCalledTimes(4);
    for (const time of [1000, 2000, 3000, 4000]) {
      expect(mapTasksAt(job, time)).toEqual([
        { partition: 0, input: "block", threadId: threads[0] },
        { partition: 1, input: "block", threadId: threads[1] },
      ]);
    }
    for (const info of job.completed) {
      expect(info.execution).toMatchObject({ failedTaskAttempts: 0, tasksOnKeptPartitions: 2 });
    }
  });

  it("runs a one-partition batch on the executor keeping it, not on the first one free", async () => {
    const batches = [someLines(5), someLines(6)];
    const job = await startJob({ name: "one-slice", slices: 1 }, batches);
    const threads = executorThreadIds(job.ctx);
    for (const time of [1000, 2000, 3000, 4000]) await runBatch(job, time);
    expect(outputs.get("one-slice")).toEqual(takenTwice(batches));
    // The second collection's only partition went to the second executor.
    expect(mapTasksAt(job, 3000)).toEqual([{ partition: 0, input: "block", threadId: threads[1] }]);
    const ranOn = await Promise.all(
      job.tasks.mock.calls.flatMap(([task], call) =>
        task.output.kind === "shuffle-write" ? [job.tasks.mock.results[call]?.value] : [],
      ),
    );
    expect(ranOn.map((attempt) => attempt.threadId)).toEqual([
      threads[0],
      threads[0],
      threads[1],
      threads[1],
    ]);
    for (const info of job.completed) expect(info.execution?.failedTaskAttempts).toBe(0);
  });

  it("is shipped from the driver again once unpersisted, with the same results", async () => {
    const batches = [someLines(2)];
    const drops = vi.spyOn(pool, "dropBlock");
    const job = await startJob({ name: "unpersisted" }, batches);
    await runBatch(job, 1000);
    const [collection] = collections.get("unpersisted") ?? [];
    collection?.unpersist();
    expect(drops).toHaveBeenCalledTimes(2);
    await runBatch(job, 2000);
    const expected = countsOf(batches[0] as string[]);
    expect(outputs.get("unpersisted")).toEqual([expected, expected]);
    expect(mapTasksAt(job, 1000).map((task) => task.input)).toEqual(["block", "block"]);
    expect(mapTasksAt(job, 2000)).toEqual([
      { partition: 0, input: "strings", threadId: undefined },
      { partition: 1, input: "strings", threadId: undefined },
    ]);
    expect(job.completed.map((info) => info.execution?.tasksOnKeptPartitions)).toEqual([2, 0]);
  });

  it("is placed again on the executors alive when the executor keeping a partition exits", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-kept-"));
    try {
      const batches = [someLines(3), someLines(4)];
      const job = await startJob({ name: "lost", exitMarker: join(dir, "exited") }, batches);
      const before = executorThreadIds(job.ctx);
      for (const time of [1000, 2000, 3000, 4000]) await runBatch(job, time);
      expect(outputs.get("lost")).toEqual(takenTwice(batches));
      expect(job.completed[0]?.execution?.failedTaskAttempts).toBeGreaterThanOrEqual(1);
      const after = executorThreadIds(job.ctx);
      expect(after.filter((id) => !before.includes(id))).toHaveLength(1);
      // Every later batch reads kept partitions, on executors alive now.
      for (const time of [2000, 3000, 4000]) {
        for (const task of mapTasksAt(job, time)) {
          expect(task.input).toBe("block");
          expect(after).toContain(task.threadId);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a persisted collection whose records cannot cross threads", () => {
  it("fails its batch with SLUICE_INVALID_RECORD, saying records must be structured-cloneable", async () => {
    const clock = new ManualClock(0);
    const ctx = await createJobContext(
      { module: JOBS, exportName: "keptFunctions", args: "functions" },
      { batchInterval: 1000, clock, master: "local[2]", executorPool: pool },
    );
    running.push(ctx);
    const failed = ctx.awaitTermination().catch((error: unknown) => error);
    await ctx.start();
    clock.advance(1000);
    expect(await failed).toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringMatching(/must be structured-cloneable/),
    });
    expect(outputs.get("functions")).toBeUndefined();
  });
});

describe("ExecutorPool.runTask on a given executor", () => {
  it("fails as an executor lost when that executor is gone, so the driver reads the input elsewhere", async () => {
    const task: TaskSpec = {
      jobKey: 1,
      time: 0,
      partition: 0,
      streamId: 0,
      input: { kind: "block", blockId: "1:0" },
      chain: [],
      output: { kind: "records" },
    };
    const attempt = pool.runTask(task, -1);
    await expect(attempt).rejects.toBeInstanceOf(TaskAttemptError);
    await expect(attempt).rejects.toMatchObject({ executorLost: true });
  });
});
