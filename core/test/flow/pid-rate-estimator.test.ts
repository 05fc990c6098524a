import { PidRateEstimator, RateController } from "sluice/advanced";
import { describe, expect, it } from "vitest";

const interval = 1000;

/**
 * A pipeline that processes `capacity` records per second, fed by a producer offering
 * `offered` records per second, with the estimator's rate limiting intake. Returns the rate
 * proposed after each batch and the scheduling delay each batch saw. Pure arithmetic: no clock.
 */
function simulate(options: {
  capacity: number;
  offered: number;
  batches: number;
  estimator: PidRateEstimator;
}): { rates: number[]; schedulingDelays: number[] } {
  const { capacity, offered, batches, estimator } = options;
  const rates: number[] = [];
  const schedulingDelays: number[] = [];
  let rate: number | undefined;
  let busyUntil = 0; // when the previous batch's processing ends
  for (let n = 1; n <= batches; n++) {
    const time = n * interval;
    const allowed = rate === undefined ? Number.POSITIVE_INFINITY : (rate * interval) / 1000;
    const records = Math.floor(Math.min((offered * interval) / 1000, allowed));
    const start = Math.max(time, busyUntil);
    const processing = (records / capacity) * 1000;
    busyUntil = start + processing;
    schedulingDelays.push(start - time);
    const next = estimator.compute({
      time,
      records,
      processingDelayMs: processing,
      schedulingDelayMs: start - time,
    });
    if (next !== undefined) rate = next;
    rates.push(rate ?? Number.NaN);
  }
  return { rates, schedulingDelays };
}

describe("PidRateEstimator (Spark's PID estimator)", () => {
  it("calibrates on the first batch and proposes from the second", () => {
    const estimator = new PidRateEstimator({ batchIntervalMs: interval });
    expect(
      estimator.compute({ time: 1000, records: 10, processingDelayMs: 100, schedulingDelayMs: 0 }),
    ).toBeUndefined();
    expect(
      estimator.compute({ time: 2000, records: 10, processingDelayMs: 100, schedulingDelayMs: 0 }),
    ).toBeTypeOf("number");
  });

  it("ignores batches with no records, no processing time, or no time passed", () => {
    const estimator = new PidRateEstimator({ batchIntervalMs: interval });
    estimator.compute({ time: 1000, records: 10, processingDelayMs: 100, schedulingDelayMs: 0 });
    const same = { time: 1000, records: 10, processingDelayMs: 100, schedulingDelayMs: 0 };
    expect(estimator.compute(same)).toBeUndefined();
    expect(estimator.compute({ ...same, time: 2000, records: 0 })).toBeUndefined();
    expect(estimator.compute({ ...same, time: 2000, processingDelayMs: 0 })).toBeUndefined();
  });

  it("follows the processing speed when there is no error and no backlog", () => {
    const estimator = new PidRateEstimator({ batchIntervalMs: interval, minRate: 1 });
    // 1000 records in 500 ms: the pipeline processes 2000/s.
    estimator.compute({ time: 1000, records: 1000, processingDelayMs: 500, schedulingDelayMs: 0 });
    const rate = estimator.compute({
      time: 2000,
      records: 1000,
      processingDelayMs: 500,
      schedulingDelayMs: 0,
    });
    expect(rate).toBeCloseTo(2000, 6);
  });

  it("stays below the processing speed while a backlog remains", () => {
    const estimator = new PidRateEstimator({ batchIntervalMs: interval, minRate: 1 });
    estimator.compute({ time: 1000, records: 1000, processingDelayMs: 500, schedulingDelayMs: 0 });
    const rate = estimator.compute({
      time: 2000,
      records: 1000,
      processingDelayMs: 500,
      schedulingDelayMs: 300,
    });
    // historical error = 300 * 2000 / 1000 = 600, times I = 0.2 → 120 below 2000.
    expect(rate).toBeCloseTo(1880, 6);
  });

  it("never proposes less than the minimum rate", () => {
    const estimator = new PidRateEstimator({ batchIntervalMs: interval, minRate: 250 });
    estimator.compute({
      time: 1000,
      records: 100,
      processingDelayMs: 10_000,
      schedulingDelayMs: 0,
    });
    const rate = estimator.compute({
      time: 2000,
      records: 100,
      processingDelayMs: 10_000,
      schedulingDelayMs: 50_000,
    });
    expect(rate).toBe(250);
  });

  it("converges on the pipeline's capacity under a 10x overload and stops the delay growing", () => {
    const capacity = 5000;
    const { rates, schedulingDelays } = simulate({
      capacity,
      offered: capacity * 10,
      batches: 60,
      estimator: new PidRateEstimator({ batchIntervalMs: interval }),
    });
    const tail = rates.slice(30);
    for (const rate of tail) {
      expect(rate).toBeGreaterThan(capacity * 0.9);
      expect(rate).toBeLessThanOrEqual(capacity * 1.05);
    }
    // The backlog of the first overloaded batch drains: delay ends no higher than it peaked,
    // and is flat over the last ten batches.
    const last = schedulingDelays.slice(-10);
    expect(Math.max(...last) - Math.min(...last)).toBeLessThan(interval * 0.1);
    expect(last.at(-1)).toBeLessThan(Math.max(...schedulingDelays));
  });

  it("does not oscillate beyond a bound once settled", () => {
    const capacity = 20_000;
    const { rates } = simulate({
      capacity,
      offered: capacity * 10,
      batches: 80,
      estimator: new PidRateEstimator({ batchIntervalMs: interval, derivative: 0.1 }),
    });
    const tail = rates.slice(40);
    const swing = Math.max(...tail) - Math.min(...tail);
    expect(swing).toBeLessThan(capacity * 0.1);
  });

  it("rejects invalid tuning with the field named", () => {
    expect(() => new PidRateEstimator({ batchIntervalMs: 0 })).toThrow(/batchIntervalMs/);
    expect(() => new PidRateEstimator({ batchIntervalMs: 1000, integral: -1 })).toThrow(/integral/);
    expect(() => new PidRateEstimator({ batchIntervalMs: 1000, minRate: 0 })).toThrow(/minRate/);
  });
});

describe("RateController", () => {
  const observe = (control: RateController, time: number, records: number, ms: number): void =>
    control.onBatchCompleted({ time, records, processingDelayMs: ms, schedulingDelayMs: 0 });

  it("has no limit until it knows a rate, unless an initial rate is set", () => {
    expect(new RateController(interval).recordsPerBatch()).toBeUndefined();
    expect(new RateController(interval, { initialRate: 300 }).recordsPerBatch()).toBe(300);
  });

  it("caps the estimate with maxRate and maxRatePerPartition", () => {
    const control = new RateController(2000, { maxRate: 1500, maxRatePerPartition: 400 });
    observe(control, 2000, 10_000, 1000);
    observe(control, 4000, 10_000, 1000); // estimate 10 000/s
    expect(control.currentRate()).toBe(1500);
    expect(control.recordsPerBatch(1)).toBe(800); // 400/s over 2 s
    expect(control.recordsPerBatch(10)).toBe(3000); // 1500/s over 2 s
  });

  it("splits the allowance over partitions by backlog", () => {
    const control = new RateController(interval, { initialRate: 1000 });
    const split = control.recordsPerPartition(
      new Map([
        ["a", 3000],
        ["b", 1000],
        ["c", 0],
      ]),
    );
    expect(Object.fromEntries(split)).toEqual({ a: 750, b: 250, c: 1 });
  });

  it("keeps only the static caps when backpressure is off", () => {
    const control = new RateController(interval, { enabled: false, maxRate: 700 });
    observe(control, 1000, 100, 1000);
    observe(control, 2000, 100, 1000);
    expect(control.backpressureEnabled).toBe(false);
    expect(control.currentRate()).toBe(700);
  });

  it("rejects a non-positive cap with the field named", () => {
    expect(() => new RateController(interval, { maxRatePerPartition: 0 })).toThrow(
      /maxRatePerPartition/,
    );
  });
});
