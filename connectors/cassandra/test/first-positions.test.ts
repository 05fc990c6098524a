// Write timestamps come from each record's index in the first write of its batch, also when a
// batch is written again without records sent to the dead letters.
import { describe, expect, it } from "vitest";
import { FirstPositions } from "../src/first-positions.js";

const record = (text: string) => ({ value: new TextEncoder().encode(text) });
const context = (batchTime: number, partition = 0) => ({
  batchTime,
  partition,
  idempotencyKey: `job/${batchTime}/0/${partition}`,
});

describe("FirstPositions", () => {
  it("gives the records of a batch written again without some of them their first indices", () => {
    const positions = new FirstPositions();
    const records = ["a", "bad", "b", "c"].map(record);
    expect(positions.of(records, context(1000))).toEqual([0, 1, 2, 3]);
    const [a, , b, c] = records;
    if (a === undefined || b === undefined || c === undefined) throw new Error("four records");
    expect(positions.of([a, b, c], context(1000))).toEqual([0, 2, 3]);
    expect(positions.of([b, c], context(1000))).toEqual([2, 3]);
  });

  it("starts afresh for another batch, partition or writer, or records not seen before", () => {
    const positions = new FirstPositions();
    const records = ["a", "b", "c"].map(record);
    const later = records.slice(1);
    positions.of(records, context(1000));
    expect(positions.of(later, context(2000))).toEqual([0, 1]);
    expect(positions.of(later, context(1000, 1))).toEqual([0, 1]);
    expect(positions.of(later, { ...context(1000), writer: "keyed-1" })).toEqual([0, 1]);
    expect(positions.of([...later, record("new")], context(1000))).toEqual([0, 1, 2]);
  });
});
