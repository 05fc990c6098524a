// SluiceMetrics fed listener events directly: every event lands in its metric, under the
// source's name, in a registry of its own.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InputRateInfo, SluiceMetrics } from "sluice";
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
