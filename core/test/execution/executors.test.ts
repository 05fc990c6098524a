import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BatchInfo,
  createJobContext,
  type ExecutorsInfo,
  type ExecutorsUnavailableInfo,
  type StreamingContext,
  type StreamingContextOptions,
} from "sluice";
import { EXECUTOR_YOUNG_GENERATION_MB, ExecutorPool } from "sluice/advanced";
import { executorThreadIds, ManualClock, runBatches } from "sluice/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { DriverExecution } from "../../src/execution/driver-execution.js";
import { batchCompleted } from "../streaming/events.js";
import { functionsAsRecords, outputs, queues } from "./jobs/faults.js";
import { youngGeneration } from "./jobs/limits.js";

const JOBS = new URL("./jobs/faults.ts", import.meta.url);

interface Running {
  readonly ctx: StreamingContext;
  readonly clock: ManualClock;
  readonly completed: BatchInfo[];
  readonly started: ExecutorsInfo[];
  readonly unavailable: ExecutorsUnavailableInfo[];
}

const running: StreamingContext[] = [];
// Starting threads takes a while: the tests share these executors, except where a context's own
// pool is the point.
const shared = new ExecutorPool({ threads: 2 });

afterAll(async () => {
  await shared.close();
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
});

/** Starts a job of jobs/faults.ts under `local[2]` on a manual clock, with its batches queued. */
async function startJob(
  exportName: string,
  args: unknown,
  name: string,
  batches: number[][],
  options: Partial<StreamingContextOptions> = {},
): Promise<Running> {
  queues.set(
    name,
    batches.map((batch) => [...batch]),
  );
  const clock = new ManualClock(0);
  const ctx = await createJobContext(
    { module: JOBS, exportName, args },
    { batchInterval: 1000, clock, master: "local[2]", executorPool: shared, ...options },
  );
  running.push(ctx);
  const completed: BatchInfo[] = [];
  const started: ExecutorsInfo[] = [];
  const unavailable: ExecutorsUnavailableInfo[] = [];
  ctx.addListener({
    onBatchCompleted: (info) => completed.push(info),
    onExecutorsStarted: (info) => started.push(info),
    onExecutorsUnavailable: (info) => unavailable.push(info),
  });
  await ctx.start();
  return { ctx, clock, completed, started, unavailable };
}

/** Moves the clock to the batch at `time` and waits for it to complete. */
async function runBatch(job: Running, time: number): Promise<BatchInfo> {
  const done = batchCompleted(job.ctx, time);
  job.clock.advance(time - job.clock.now());
  await done;
  return job.completed.find((info) => info.batchTime === time) as BatchInfo;
}

describe("executors", () => {
  it("run the per-partition work on worker threads and report it per batch", async () => {
    const job = await startJob("wordCount", "counts", "counts", [[1, 2, 3, 4, 5, 6]]);
    expect(job.started).toHaveLength(1);
    const threadIds = executorThreadIds(job.ctx);
    expect(job.started[0]?.threadIds).toEqual(threadIds);
    expect(threadIds).toHaveLength(2);
    const info = await runBatch(job, 1000);
    // k0: 3 + 6, k1: 1 + 4, k2: 2 + 5, times 10.
    expect([...(outputs.get("counts")?.[0] ?? [])].sort()).toEqual([
      ["k0", 90],
      ["k1", 50],
      ["k2", 70],
    ]);
    const execution = info.execution;
    expect(execution?.executors).toBe(2);
    // 2 map tasks and 2 reduce tasks, which run the mapValues after the shuffle too.
    expect(execution?.tasks).toBe(4);
    expect(execution?.failedTaskAttempts).toBe(0);
    expect(execution?.shuffleBytes).toBeGreaterThan(0);
    const executorsUsed = [...(execution?.taskTimeByExecutor.keys() ?? [])];
    expect(executorsUsed.length).toBeGreaterThan(0);
    for (const thread of executorsUsed) expect(threadIds).toContain(thread);
  });

  it("retry a task that throws, then fail the batch naming the operation, time, partition, record and cause", async () => {
    const job = await startJob("throwsOnThree", "throws", "throws", [[1, 2, 3, 4]]);
    const failure = expect(job.ctx.awaitTermination()).rejects.toMatchObject({
      code: "SLUICE_RECORD_FAILED",
      message: expect.stringMatching(
        /^MappedDStream \(stream 1\) failed for the batch at 1000 ms, partition 1, after 4 attempts: map failed on a record in the batch at 1000 ms \(3 attempts\): bad record 3\. The record: 3\. .*ctx\.deadLetters/,
      ),
      cause: expect.objectContaining({ code: "SLUICE_RECORD_FAILED" }),
    });
    const info = await runBatch(job, 1000);
    await failure;
    expect(info.execution?.failedTaskAttempts).toBe(4);
    expect(info.outputOperationInfos.get(0)?.failureReason).toMatch(/after 4 attempts/);
  });

  it("take taskMaxFailures attempts", async () => {
    const job = await startJob("throwsOnThree", "twice", "twice", [[3]], { taskMaxFailures: 2 });
    const failure = expect(job.ctx.awaitTermination()).rejects.toMatchObject({
      message: expect.stringMatching(
        /partition \d, after 2 attempts: map failed .*: bad record 3\./,
      ),
    });
    const info = await runBatch(job, 1000);
    await failure;
    expect(info.execution?.failedTaskAttempts).toBe(2);
  });

  it("replace an executor that exits during a task and retry the task on a fresh one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-executors-"));
    try {
      const marker = join(dir, "exited");
      const job = await startJob("exitsOnce", { name: "exits", marker }, "exits", [[1, 2, 3]]);
      const before = executorThreadIds(job.ctx);
      const info = await runBatch(job, 1000);
      expect(outputs.get("exits")).toEqual([[2, 4, 6]]);
      expect(info.execution?.failedTaskAttempts).toBeGreaterThanOrEqual(1);
      const after = executorThreadIds(job.ctx);
      expect(after).toHaveLength(2);
      // At least one thread died and was replaced by a new one.
      expect(before.filter((id) => !after.includes(id)).length).toBeGreaterThanOrEqual(1);
      expect(after.filter((id) => !before.includes(id)).length).toBeGreaterThanOrEqual(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("compute a stream that two streams read once per record, as local[1] does", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-executors-"));
    try {
      const calls = join(dir, "calls");
      const job = await startJob("readTwice", { name: "twice-read", calls }, "twice-read", [
        [1, 2, 3],
      ]);
      await runBatch(job, 1000);
      expect(outputs.get("twice-read")).toEqual([[20, 30, 11, 21, 31]]);
      const called = (await readFile(calls, "utf8")).trim().split("\n").sort();
      expect(called).toEqual(["1", "2", "3"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("are all terminated by stop(): no executor thread is left", async () => {
    const job = await startJob("wordCount", "stopped", "stopped", [[1, 2]], {
      executorPool: undefined,
    });
    await runBatch(job, 1000);
    const execution = job.ctx.scope.execution() as DriverExecution | undefined;
    const pool = execution?.executorPool;
    expect(pool?.threadIds()).toHaveLength(2);
    await job.ctx.stop();
    expect(pool?.isClosed).toBe(true);
    expect(pool?.threadIds()).toEqual([]);
    expect(executorThreadIds(job.ctx)).toEqual([]);
  });

  it("refuse a job that builds another graph on the executors", async () => {
    queues.set("differs", []);
    const ctx = await createJobContext(
      { module: JOBS, exportName: "differsOnExecutors", args: "differs" },
      { batchInterval: 1000, clock: new ManualClock(0), master: "local[2]", executorPool: shared },
    );
    running.push(ctx);
    await expect(ctx.start()).rejects.toMatchObject({
      code: "SLUICE_JOB_MISMATCH",
      message: expect.stringMatching(
        /stream 1:FilteredDStream here, 1:MappedDStream on the driver/,
      ),
    });
    expect(ctx.state).toBe("STOPPED");
  });

  it("fail to start, naming the module, when executors cannot import the job", async () => {
    const module = new URL("./jobs/fails-on-executors.ts", import.meta.url);
    const ctx = await createJobContext(
      { module },
      { batchInterval: 1000, clock: new ManualClock(0), master: "local[2]", executorPool: shared },
    );
    running.push(ctx);
    await expect(ctx.start()).rejects.toMatchObject({
      code: "SLUICE_JOB_LOAD_FAILED",
      message: expect.stringMatching(
        /could not import the job module .*fails-on-executors\.ts: this module cannot load on an executor/,
      ),
    });
    expect(ctx.state).toBe("STOPPED");
  });

  it("say so and run on the main thread when the job was built inline", async () => {
    const unavailable: ExecutorsUnavailableInfo[] = [];
    const output = await runBatches({ inputs: [[[1, 2, 3]]], master: "local[2]" }, (s) => {
      s.context.addListener({ onExecutorsUnavailable: (info) => unavailable.push(info) });
      return s.map((x) => x + 1);
    });
    expect(output).toEqual([[2, 3, 4]]);
    expect(unavailable).toEqual([
      { requested: 2, reason: expect.stringMatching(/built inline.*running on the main thread/) },
    ]);
  });

  it("refuse records that cannot cross threads, saying they must be structured-cloneable", async () => {
    await expect(
      runBatches(
        { inputs: [[[1, 2]]], master: "local[2]", executorPool: shared },
        functionsAsRecords,
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringMatching(/after 1 attempt: .*structured-cloneable/),
    });
  });
});

describe("executor threads' young generation", () => {
  const inputs: [number[][]] = [[[1, 2, 3, 4]]];

  it("is EXECUTOR_YOUNG_GENERATION_MB unless the pool says otherwise", async () => {
    const out = await runBatches(
      { inputs, numPartitions: 2, master: "local[2]", executorPool: shared },
      youngGeneration,
    );
    expect(out.flat()).toEqual([128, 128, 128, 128]);
    expect(EXECUTOR_YOUNG_GENERATION_MB).toBe(128);
  });

  it("is what the pool's youngGenerationMb asks for", async () => {
    const pool = new ExecutorPool({ threads: 2, youngGenerationMb: 64 });
    try {
      const out = await runBatches(
        { inputs, numPartitions: 2, master: "local[2]", executorPool: pool },
        youngGeneration,
      );
      expect(out.flat()).toEqual([64, 64, 64, 64]);
    } finally {
      await pool.close();
    }
  });

  it("refuses a youngGenerationMb that is not a whole number of MiB", () => {
    for (const youngGenerationMb of [0, 1.5, -8]) {
      expect(() => new ExecutorPool({ threads: 1, youngGenerationMb })).toThrow(
        expect.objectContaining({
          code: "SLUICE_INVALID_ARGUMENT",
          message: expect.stringContaining("youngGenerationMb must be an integer"),
        }),
      );
    }
  });
});
