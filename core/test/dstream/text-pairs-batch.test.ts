import type { DStream } from "sluice";
import { describe, expect, it } from "vitest";
import { saveBatches } from "../../src/dstream/stateful-operator.js";
import {
  partitionCountOf,
  rowsOfTextPairs,
  TextPairsBatch,
} from "../../src/dstream/text-pairs-batch.js";
import { shippedPairs } from "../../src/execution/shipped-pairs.js";

const rows: [string, number][] = [
  ["a", 1],
  ["", -0],
  ["é🙂", 2.5],
  ["\ud800", Number.NaN],
];
const pairs = () => shippedPairs(rows) as NonNullable<ReturnType<typeof shippedPairs>>;

describe("TextPairsBatch", () => {
  it("makes its rows on first read of partitions, and keeps them", () => {
    const batch = new TextPairsBatch(1000, [pairs(), pairs()]);
    expect(batch.isMaterialised).toBe(false);
    expect(partitionCountOf(batch)).toBe(2);
    expect(batch.isMaterialised).toBe(false);
    const first = batch.partitions;
    expect(first).toEqual([rows, rows]);
    expect(Object.is(first[0]?.[1]?.[1], -0)).toBe(true);
    expect(batch.partitions).toBe(first);
  });

  it("gives a checkpoint its rows without keeping them (rowsOnce)", () => {
    const batch = new TextPairsBatch(1000, [pairs()]);
    expect(batch.rowsOnce()).toEqual([rows]);
    expect(batch.isMaterialised).toBe(false);
    const kept = batch.partitions;
    expect(batch.rowsOnce()).toBe(kept);
  });

  it("reads rows of text pairs in order, an empty key included", () => {
    expect(rowsOfTextPairs(pairs())).toEqual(rows);
    expect(
      rowsOfTextPairs({ text: "", ends: new Uint32Array(0), values: new Float64Array(0) }),
    ).toEqual([]);
  });
});

describe("a checkpoint of text-pair batches", () => {
  it("saves their rows and leaves them as text pairs", async () => {
    const batches = new Map(
      [1000, 2000].map((time) => [time, new TextPairsBatch(time, [pairs()])]),
    );
    // The parts of a stream `saveBatches` reads.
    const stream = {
      zeroTime: 0,
      slideDuration: 1000,
      isTimeValid: (time: number) => time > 0 && time % 1000 === 0,
      getOrCompute: async (time: number) => batches.get(time),
    } as unknown as DStream<[string, number]>;
    const saved = await saveBatches(stream, 0, 2000);
    expect(saved).toEqual([
      { time: 1000, partitions: [rows] },
      { time: 2000, partitions: [rows] },
    ]);
    expect([...batches.values()].some((batch) => batch.isMaterialised)).toBe(false);
  });
});
