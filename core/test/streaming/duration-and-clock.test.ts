import { batchRecords, parseDuration, SluiceError, StreamingContext, SystemClock } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";

describe("parseDuration", () => {
  it("reads milliseconds and unit strings", () => {
    expect(parseDuration(250, "x")).toBe(250);
    expect(parseDuration("500ms", "x")).toBe(500);
    expect(parseDuration("2s", "x")).toBe(2000);
    expect(parseDuration("1.5s", "x")).toBe(1500);
    expect(parseDuration("1m", "x")).toBe(60_000);
    expect(parseDuration("2min", "x")).toBe(120_000);
    expect(parseDuration("1h", "x")).toBe(3_600_000);
  });

  it("rejects what is not a positive whole number of milliseconds, naming the field", () => {
    for (const bad of [0, -5, 1.5, Number.NaN, "2 weeks", "s", "0s", "0.5ms", ""]) {
      expect(() => parseDuration(bad as never, "window")).toThrowError(
        expect.objectContaining({
          code: "SLUICE_INVALID_DURATION",
          message: expect.stringMatching(/^window/),
        }),
      );
    }
    expect(() => parseDuration("2 weeks" as never, "batchInterval")).toThrowError(SluiceError);
  });
});

describe("ManualClock", () => {
  it("resolves waits in time order as it advances, and never goes back", async () => {
    const clock = new ManualClock(100);
    const woken: number[] = [];
    const late = clock.waitUntil(300).then(() => woken.push(300));
    const early = clock.waitUntil(200).then(() => woken.push(200));
    clock.advance(50);
    await Promise.resolve();
    expect(woken).toEqual([]);
    clock.advance(200);
    await Promise.all([late, early]);
    expect(woken).toEqual([200, 300]);
    expect(clock.now()).toBe(350);
    await expect(clock.waitUntil(10)).resolves.toBe(350);
    expect(() => clock.setTime(5)).toThrowError(
      expect.objectContaining({ code: "SLUICE_INVALID_ARGUMENT" }),
    );
  });

  it("rejects a wait whose signal aborts", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const wait = clock.waitUntil(1000, controller.signal);
    controller.abort();
    await expect(wait).rejects.toMatchObject({ code: "SLUICE_ILLEGAL_STATE" });
    clock.advance(2000); // the aborted wait is gone and must not throw
  });
});

describe("SystemClock", () => {
  it("waits until the time has come, and can be cancelled", async () => {
    const clock = new SystemClock();
    const target = clock.now() + 5;
    expect(await clock.waitUntil(target)).toBeGreaterThanOrEqual(target);
    const controller = new AbortController();
    const wait = clock.waitUntil(clock.now() + 60_000, controller.signal);
    controller.abort();
    await expect(wait).rejects.toMatchObject({ code: "SLUICE_ILLEGAL_STATE" });
  });

  it("drives a context in real time", async () => {
    const ctx = new StreamingContext({ batchInterval: "10ms" });
    const seen: number[][] = [];
    const first = new Promise<void>((resolve) => {
      ctx.queueStream([[1, 2]]).foreachBatch((batch) => {
        seen.push(batchRecords(batch));
        resolve();
      });
    });
    await ctx.start();
    await first;
    await ctx.stop();
    expect(seen[0]).toEqual([1, 2]);
  });
});
