import { describe, expect, it } from "vitest";
import { runSimulatedOverload } from "./simulated-overload.js";

// The output processes 200 records per second of clock (5 ms each); the producer writes 2000 a
// second, ten times more, for 5 s. The rest of the 10 000 records wait in the "broker".
const capacity = 200;
const overload = {
  producerRatePerSecond: 2000,
  records: 10_000,
  costMsPerRecord: 1000 / capacity,
  maxBufferedRecords: 3000,
  maxClockMs: 120_000,
};

function expectEveryRecordOnce(processed: Map<string, number>): void {
  expect(processed.size).toBe(overload.records);
  for (let index = 0; index < overload.records; index++) {
    expect(processed.get(`record-${index}`), `record-${index}`).toBe(1);
  }
}

describe("backpressure on a simulated overload", () => {
  it("settles the rate near the processing rate, keeps the queue small, and processes every record once", async () => {
    const run = await runSimulatedOverload({ ...overload, backpressure: { initialRate: 1000 } });
    expectEveryRecordOnce(run.processed);
    expect(run.maxQueuedRecords).toBeLessThanOrEqual(overload.maxBufferedRecords);
    // After the first batches (an initial rate 5x too high), the estimator holds the intake
    // near what the output processes, and the queue holds about one batch instead of the bound.
    const settled = run.rates.filter(
      (info) => info.batchTime >= 25_000 && info.batchTime <= 45_000,
    );
    expect(settled.length).toBeGreaterThan(15);
    for (const info of settled) {
      expect(info.backpressure).toBe(true);
      expect(info.rateLimit).toBeGreaterThan(capacity * 0.8);
      expect(info.rateLimit).toBeLessThan(capacity * 1.2);
      expect(info.recordsPerBatch).toBeLessThanOrEqual(capacity * 1.2);
      expect(info.queuedRecords).toBeLessThanOrEqual(2 * capacity);
    }
    // Paused for its rate while the producer was ahead, never for a full queue once settled.
    expect(run.rates.some((info) => info.paused === "rate")).toBe(true);
    expect(settled.every((info) => info.paused !== "queue")).toBe(true);
  });

  it("without backpressure fills the queue to its bound, which still caps memory", async () => {
    const run = await runSimulatedOverload({ ...overload, backpressure: { enabled: false } });
    expectEveryRecordOnce(run.processed);
    expect(run.maxQueuedRecords).toBe(overload.maxBufferedRecords);
    expect(run.rates.every((info) => info.rateLimit === undefined && !info.backpressure)).toBe(
      true,
    );
    // Most of the run the queue sits between half the bound and the bound: batches of thousands
    // of records that each take many batch intervals to process.
    const full = run.rates.filter((info) => info.queuedRecords >= overload.maxBufferedRecords / 2);
    expect(full.length).toBeGreaterThan(run.rates.length / 2);
  });

  it("bounds the queue in bytes too", async () => {
    const maxBufferedBytes = 5000; // about 450 records of 11 bytes
    const run = await runSimulatedOverload({
      ...overload,
      backpressure: { enabled: false },
      maxBufferedBytes,
    });
    expectEveryRecordOnce(run.processed);
    expect(run.maxQueuedRecords).toBeLessThan(overload.maxBufferedRecords / 4);
    // Reads are sized by the largest record seen, so the queue passes the byte bound by at most
    // one record (a read always asks for at least one; records here are at most 11 bytes).
    expect(run.maxQueuedBytes).toBeGreaterThan(maxBufferedBytes * 0.8);
    expect(run.maxQueuedBytes).toBeLessThanOrEqual(maxBufferedBytes + 11);
  });

  it("recovers from its floor once batches process faster than the clock can tell", async () => {
    // A slow start (5 ms a record for the first 20 s of clock) drives the estimate to its floor
    // (minRate, 100 records a second); then processing takes under a millisecond of clock, which
    // a whole-millisecond clock reads as 0 ms. Those batches must still raise the rate: the
    // 20 000 records are all produced by 10 s and must not trickle in at 100 a second.
    const records = 20_000;
    const run = await runSimulatedOverload({
      ...overload,
      records,
      costMsPerRecordAt: (clockMs) => (clockMs < 20_000 ? 5 : 0),
      backpressure: {},
    });
    expect(run.processed.size).toBe(records);
    expect([...run.processed.values()].every((times) => times === 1)).toBe(true);
    const floor = run.rates.filter((info) => info.rateLimit !== undefined && info.rateLimit <= 100);
    expect(floor.length).toBeGreaterThan(0);
    // Back to thousands of records a batch within a few batches of the fast phase.
    const fast = run.rates.filter((info) => info.batchTime > 20_000);
    expect(fast.slice(0, 8).some((info) => (info.rateLimit ?? Infinity) >= 2000)).toBe(true);
    expect(run.finishedAtMs).toBeLessThan(60_000);
  });
});
