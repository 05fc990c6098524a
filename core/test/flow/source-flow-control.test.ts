import type { SourceRecord } from "sluice";
import { type SourceRecordColumns, SourceRecordColumnsBuilder } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { SourceFlowControl } from "../../src/flow/source-flow-control.js";

const value = new Uint8Array(10);

function recordsOf(partition: string, count: number): SourceRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    value,
    headers: {},
    timestampMs: 0,
    partition,
    offset: String(index),
  }));
}

// 1 s batches, a fixed rate of 1000 records per second (no estimate yet), each partition capped
// at 600 a second.
function flowControl(): SourceFlowControl {
  return new SourceFlowControl({
    batchIntervalMs: 1000,
    rate: { initialRate: 1000, maxRatePerPartition: 600 },
    maxQueuedRecords: 100_000,
    maxQueuedBytes: 1 << 30,
  });
}

describe("SourceFlowControl read options", () => {
  it("asks a source without a backlog for maxRecords only (one partition's cap before any record)", () => {
    const flow = flowControl();
    expect(flow.readOptions()).toEqual({ maxRecords: 600 });
    expect(flow.recordsPerPartition()).toBeUndefined();
  });

  it("splits the allowance over partitions by backlog, capped per partition", () => {
    const flow = flowControl();
    const options = flow.readOptions(
      new Map([
        ["t-0", 9000],
        ["t-1", 1000],
      ]),
    );
    // Two partitions: the total is min(1000, 2 x 600); t-0's 90 % share is capped at 600.
    expect(options.maxRecords).toBe(1000);
    expect(Object.fromEntries(options.maxRecordsPerPartition ?? [])).toEqual({
      "t-0": 600,
      "t-1": 100,
    });
  });

  it("takes what a partition delivered in the interval off its share, and carries a surplus over", () => {
    const flow = flowControl();
    const backlog = new Map([
      ["t-0", 5000],
      ["t-1", 5000],
    ]);
    flow.readOptions(backlog);
    const first = recordsOf("t-0", 300);
    flow.received(first);
    expect(Object.fromEntries(flow.readOptions(backlog).maxRecordsPerPartition ?? [])).toEqual({
      "t-0": 200,
      "t-1": 500,
    });
    // A source that ignored the hint: 700 from t-0, 200 beyond its share of 500.
    flow.received(recordsOf("t-0", 400));
    expect(flow.readOptions(backlog).maxRecordsPerPartition?.get("t-0")).toBe(0);
    flow.allocate(1000, [...first, ...recordsOf("t-0", 400)], true);
    // The next interval: t-0's share less the 200 it delivered ahead.
    expect(Object.fromEntries(flow.readOptions(backlog).maxRecordsPerPartition ?? [])).toEqual({
      "t-0": 300,
      "t-1": 500,
    });
  });

  it("counts a byte batch of several partitions per partition, its keys with its values", () => {
    const flow = flowControl();
    const backlog = new Map([
      ["t-0", 5000],
      ["t-1", 5000],
    ]);
    flow.readOptions(backlog);
    const builder = new SourceRecordColumnsBuilder();
    for (let row = 0; row < 300; row++) {
      builder.add(row < 100 ? "t-1" : "t-0", value, new Uint8Array(2), 0, row);
    }
    flow.received(builder.build() as SourceRecordColumns);
    expect(Object.fromEntries(flow.readOptions(backlog).maxRecordsPerPartition ?? [])).toEqual({
      "t-0": 300,
      "t-1": 400,
    });
    expect(flow.queuedRecords).toBe(300);
    expect(flow.queuedBytes).toBe(300 * 12);
  });

  it("carries a surplus over one interval at most, so a burst never pauses the source longer", () => {
    const flow = flowControl();
    // 50 000 records read at once from one partition, against an allowance of 600 a batch.
    const burst = recordsOf("t-0", 50_000);
    flow.received(burst);
    expect(flow.pauseReason()).toBe("rate");
    flow.allocate(1000, burst, true);
    // The next interval pays back one allowance; the one after reads again.
    expect(flow.remainingAllowance()).toBe(0);
    expect(flow.pauseReason()).toBe("rate");
    flow.allocate(2000, [], true);
    expect(flow.remainingAllowance()).toBe(600);
    expect(flow.pauseReason()).toBeUndefined();
  });

  it("pauses for its rate once every partition with a backlog used its share, until the next interval", () => {
    const flow = flowControl();
    const backlog = new Map([
      ["t-0", 5000],
      ["t-1", 5000],
      ["t-2", 5000],
    ]);
    flow.readOptions(backlog);
    // Shares of 333 each (floored): the source-wide allowance keeps a record or so left over.
    const delivered = [
      ...recordsOf("t-0", 333),
      ...recordsOf("t-1", 333),
      ...recordsOf("t-2", 333),
    ];
    flow.received(delivered);
    expect(flow.remainingAllowance()).toBe(1);
    expect(flow.pauseReason()).toBeUndefined();
    const options = flow.readOptions(backlog);
    expect(options.maxRecordsPerPartition?.get("t-0")).toBe(0);
    expect(options.maxRecordsPerPartition?.get("t-1")).toBe(0);
    expect(options.maxRecordsPerPartition?.get("t-2")).toBe(0);
    expect(flow.pauseReason()).toBe("rate");
    flow.allocate(1000, delivered, true);
    expect(flow.pauseReason()).toBeUndefined();
  });

  it("never asks for more from a partition than maxRecords", () => {
    const flow = new SourceFlowControl({
      batchIntervalMs: 1000,
      rate: { initialRate: 1000 },
      maxQueuedRecords: 50,
      maxQueuedBytes: 1 << 30,
    });
    const options = flow.readOptions(new Map([["t-0", 5000]]));
    expect(options.maxRecords).toBe(50);
    expect(options.maxRecordsPerPartition?.get("t-0")).toBe(50);
    expect(flow.recordsPerPartition()?.get("t-0")).toBe(1000);
  });
});
