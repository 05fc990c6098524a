// The progress a `sluice run` shows per batch, with the partitions of a cluster-mode process.
import type { BatchInfo } from "sluice";
import { describe, expect, it } from "vitest";
import { type ProgressMode, ProgressReporter } from "../../src/cli/progress-reporter.js";

function batch(time: number, records: number): BatchInfo {
  return {
    batchTime: time,
    numRecords: records,
    submissionTime: time,
    processingStartTime: time + 2,
    processingEndTime: time + 12,
    schedulingDelay: 2,
    processingDelay: 10,
    totalDelay: 12,
    streamIdToInputInfo: new Map(),
    outputOperationInfos: new Map(),
  } as unknown as BatchInfo;
}

function reporter(mode: ProgressMode) {
  const written: string[] = [];
  return { written, progress: new ProgressReporter(mode, 1000, { write: (t) => written.push(t) }) };
}

describe("ProgressReporter", () => {
  it("shows no partitions outside cluster mode", () => {
    const { written, progress } = reporter("status-line");
    progress.onBatchCompleted(batch(1000, 5));
    expect(written.join("")).not.toMatch(/partitions/);
  });

  it("shows the process's partitions with every batch once told, and their changes", () => {
    const { written, progress } = reporter("status-line");
    progress.showPartitions(["in-0", "in-3"]);
    progress.onBatchCompleted(batch(1000, 5));
    expect(written.at(-1)).toMatch(/records in 5 out 0 \| partitions in-0, in-3/);
    progress.showPartitions([]);
    progress.onBatchCompleted(batch(2000, 0));
    expect(written.at(-1)).toMatch(/\| partitions none/);
  });

  it("puts them in plain lines and JSON too", () => {
    const lines = reporter("lines");
    lines.progress.showPartitions(["in-1"]);
    lines.progress.onBatchCompleted(batch(1000, 1));
    expect(lines.written.at(-1)).toMatch(/ partitions=in-1\n$/);
    const json = reporter("json");
    json.progress.showPartitions(["in-1", "in-2"]);
    json.progress.onBatchCompleted(batch(1000, 1));
    expect(JSON.parse(json.written.at(-1) as string)).toMatchObject({
      event: "batchCompleted",
      partitions: ["in-1", "in-2"],
    });
  });
});
