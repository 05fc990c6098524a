import { describe, expect, it } from "vitest";
import { StreamingContext } from "../../src/context/streaming-context.js";
import { resolveCheckpointOptions } from "../../src/recovery/checkpoint-options.js";
import { MAX_DURATION_MS, parseDuration, requireTimerMs } from "../../src/util/duration.js";

describe("parseDuration: the timer limit", () => {
  it("accepts up to 2^31 - 1 ms, the longest a Node.js timer can wait", () => {
    expect(MAX_DURATION_MS).toBe(2 ** 31 - 1);
    expect(parseDuration(MAX_DURATION_MS, "batchInterval")).toBe(MAX_DURATION_MS);
    expect(parseDuration("596h", "batchInterval")).toBe(596 * 3_600_000);
  });

  it("refuses what a timer cannot hold, naming the field, the value and the range", () => {
    for (const [bad, shown] of [
      [1e300, "1e+300"],
      [MAX_DURATION_MS + 1, "2147483648"],
      ["597h", "597h"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NaN, "NaN"],
      [-1, "-1"],
    ] as const) {
      expect(() => parseDuration(bad as never, "checkpoint interval")).toThrowError(
        expect.objectContaining({
          code: "SLUICE_INVALID_DURATION",
          message: `checkpoint interval: a duration must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days, the longest a timer can wait), got ${shown}`,
        }),
      );
    }
  });

  it("requireTimerMs checks milliseconds read without parseDuration", () => {
    expect(() => requireTimerMs(30_000, "connectTimeoutMs")).not.toThrow();
    expect(() => requireTimerMs(2 ** 40, "connectTimeoutMs")).toThrowError(
      /^connectTimeoutMs: .*from 1 to 2147483647/,
    );
  });
});

describe("StreamingContext options: durations a timer cannot hold", () => {
  it("lists the batch and checkpoint intervals at once", () => {
    expect(
      () => new StreamingContext({ batchInterval: 1e300, checkpointInterval: "1000h" }),
    ).toThrowError(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringMatching(
          /^StreamingContext: batchInterval: .*got 1e\+300; checkpointInterval: .*got 1000h$/,
        ),
      }),
    );
  });
});

describe("checkpoint options: durations a timer cannot hold", () => {
  it("refuses a checkpoint interval and a replay timeout beyond the limit, listing both", () => {
    expect(() =>
      resolveCheckpointOptions("/tmp/checkpoint", { interval: 1e300, replayTimeout: "1000h" }),
    ).toThrowError(
      /^checkpoint: checkpoint interval: .*from 1 to 2147483647.*got 1e\+300; replayTimeout: .*got 1000h$/,
    );
  });
});
