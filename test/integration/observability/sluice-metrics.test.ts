// SluiceMetrics fed listener events directly: every event lands in its metric, under the
// source's name, in a registry of its own.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchInfo, type InputRateInfo, SluiceMetrics } from "sluice";
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

const rate: InputRateInfo = {
  streamId: 0,
  name: "source:kafka#0",
  batchTime: 1000,
  backpressure: true,
  rateLimit: 500,
  recordsPerBatch: 500,
  queuedRecords: 42,
  queuedBytes: 4200,
  maxQueuedRecords: 10_000,
  maxQueuedBytes: 1 << 20,
  paused: "queue",
  backlog: new Map([
    ["orders-0", 120],
    ["orders-1", 7],
  ]),
};

describe("SluiceMetrics", () => {
  it("reports flow control, backlog per partition, dead letters and the checkpoint", async () => {
    const checkpoints = await mkdtemp(join(tmpdir(), "sluice-metrics-"));
    try {
      const metrics = new SluiceMetrics({
        appName: "orders",
        batchInterval: 1000,
        checkpointDirectory: checkpoints,
      });
      let families = parsePrometheusText(await metrics.text());
      // No checkpoint yet: the age is absent rather than a made-up number.
      expect(families.get("sluice_checkpoint_age_seconds")?.samples).toEqual([]);

      metrics.onInputRate(rate);
      metrics.onDeadLetters({ batchTime: 1000, records: 3 });
      metrics.onDeadLetters({ batchTime: 2000, records: 2 });
      await writeFile(join(checkpoints, "checkpoint-0000000000002000.ckpt"), "x".repeat(300));
      families = parsePrometheusText(await metrics.text());
      const source = { source: "source:kafka#0" };
      expect(sampleValue(families, "sluice_source_queued_records", source)).toBe(42);
      expect(sampleValue(families, "sluice_source_paused", source)).toBe(1);
      expect(sampleValue(families, "sluice_source_rate_limit_records_per_second", source)).toBe(
        500,
      );
      expect(
        sampleValue(families, "sluice_source_backlog_records", {
          ...source,
          partition: "orders-0",
        }),
      ).toBe(120);
      expect(
        sampleValue(families, "sluice_source_backlog_records", {
          ...source,
          partition: "orders-1",
        }),
      ).toBe(7);
      expect(sampleValue(families, "sluice_dead_letters_total", { app: "orders" })).toBe(5);
      expect(sampleValue(families, "sluice_checkpoint_size_bytes")).toBe(300);
      expect(sampleValue(families, "sluice_checkpoint_age_seconds")).toBeGreaterThanOrEqual(0);

      metrics.onInputRate({ ...rate, paused: undefined, rateLimit: undefined });
      families = parsePrometheusText(await metrics.text());
      expect(sampleValue(families, "sluice_source_paused", source)).toBe(0);
      expect(families.get("sluice_source_rate_limit_records_per_second")?.samples).toEqual([]);
    } finally {
      await rm(checkpoints, { recursive: true, force: true });
    }
  });

  it("counts the executors' tasks, those on kept partitions, failed attempts and shuffle bytes", async () => {
    const metrics = new SluiceMetrics({
      appName: "kept",
      batchInterval: 1000,
      checkpointDirectory: undefined,
    });
    const batch = (batchTime: number, execution: BatchInfo["execution"]): BatchInfo => ({
      batchTime,
      streamIdToInputInfo: new Map(),
      numRecords: 10,
      submissionTime: batchTime,
      processingStartTime: batchTime,
      processingEndTime: batchTime + 5,
      schedulingDelay: 0,
      processingDelay: 5,
      totalDelay: 5,
      outputOperationInfos: new Map(),
      ...(execution === undefined ? {} : { execution }),
    });
    const execution = (tasks: number, kept: number, failed: number, bytes: number) => ({
      executors: 2,
      tasks,
      failedTaskAttempts: failed,
      tasksOnKeptPartitions: kept,
      taskTimeByExecutor: new Map([[1, 3]]),
      shuffleBytes: bytes,
      functionsMs: 1,
      shuffleMs: 1,
      aggregateMs: 1,
      transferMs: 0,
    });
    metrics.onBatchCompleted(batch(1000, execution(4, 2, 1, 100)));
    metrics.onBatchCompleted(batch(2000, execution(4, 0, 0, 50)));
    // Under local[1] a batch has no execution: nothing more is counted.
    metrics.onBatchCompleted(batch(3000, undefined));
    const families = parsePrometheusText(await metrics.text());
    expect(sampleValue(families, "sluice_executor_tasks_total")).toBe(8);
    expect(sampleValue(families, "sluice_executor_tasks_on_kept_partitions_total")).toBe(2);
    expect(sampleValue(families, "sluice_executor_task_failures_total")).toBe(1);
    expect(sampleValue(families, "sluice_executor_shuffle_bytes_total")).toBe(150);
  });

  it("keeps each job's numbers apart (no shared global registry)", async () => {
    const first = new SluiceMetrics({
      appName: "a",
      batchInterval: 1000,
      checkpointDirectory: undefined,
    });
    const second = new SluiceMetrics({
      appName: "b",
      batchInterval: 1000,
      checkpointDirectory: undefined,
    });
    first.onDeadLetters({ batchTime: 1000, records: 4 });
    const secondFamilies = parsePrometheusText(await second.text());
    expect(sampleValue(secondFamilies, "sluice_dead_letters_total")).toBe(0);
    expect(sampleValue(parsePrometheusText(await first.text()), "sluice_dead_letters_total")).toBe(
      4,
    );
  });
});
