import { describe, expect, it } from "vitest";
import { type HeldRecord, PartitionState } from "../src/partition-state.js";

function held(offset: number): HeldRecord {
  return {
    kafkaOffset: BigInt(offset),
    value: Buffer.from(`v${offset}`),
    key: null,
    timestampMs: 0,
    headers: undefined,
    read: undefined,
    row: 0,
  };
}

function offsets(records: readonly HeldRecord[]): number[] {
  return records.map((record) => Number(record.kafkaOffset));
}

describe("PartitionState", () => {
  it("keeps fetched records in order and skips those fetched again below nextFetch", () => {
    const state = new PartitionState("orders", 0);
    expect(offsets(state.accept([held(3), held(4)]))).toEqual([3, 4]);
    expect(state.nextFetch).toBe(5n);
    // A rejoin fetched from the committed offset again: only 5 is new.
    expect(offsets(state.accept([held(3), held(4), held(5)]))).toEqual([5]);
    expect(offsets(state.take(10))).toEqual([3, 4, 5]);
  });

  it("accepts gaps (compaction, transaction markers) as long as offsets grow", () => {
    const state = new PartitionState("orders", 0);
    state.nextFetch = 10n;
    expect(offsets(state.accept([held(9), held(12), held(20)]))).toEqual([12, 20]);
    expect(state.nextFetch).toBe(21n);
  });

  it("hands nacked records out again before fresh ones, in offset order", () => {
    const state = new PartitionState("orders", 0);
    state.accept([0, 1, 2, 3, 4, 5].map(held));
    const first = state.take(2);
    const second = state.take(2);
    state.delivered(1, first);
    state.delivered(2, second);
    expect(state.fresh).toBe(2);
    state.nacked(2, second);
    state.nacked(1, first);
    expect(state.fresh).toBe(2);
    expect(state.buffered).toBe(6);
    expect(offsets(state.take(3))).toEqual([0, 1, 2]);
    expect(offsets(state.take(3))).toEqual([3, 4, 5]);
  });

  it("commits up to the lowest record not yet acknowledged", () => {
    const state = new PartitionState("orders", 0);
    state.accept([0, 1, 2, 3, 4, 5].map(held));
    const a = state.take(2);
    const b = state.take(2);
    const c = state.take(2);
    state.delivered(1, a);
    state.delivered(2, b);
    state.delivered(3, c);
    expect(state.commitTarget()).toBeUndefined();
    // Acknowledged out of order: read 2 is done, read 1 is not, so nothing can be committed.
    state.acked(2);
    expect(state.commitTarget()).toBe(0n);
    state.acked(1);
    expect(state.commitTarget()).toBe(4n);
    state.committed = 4n;
    expect(state.commitTarget()).toBeUndefined();
    state.acked(3);
    expect(state.commitTarget()).toBe(6n);
  });

  it("never commits past a nacked record waiting to be delivered again", () => {
    const state = new PartitionState("orders", 0);
    state.accept([0, 1, 2, 3].map(held));
    const a = state.take(2);
    const b = state.take(2);
    state.delivered(1, a);
    state.delivered(2, b);
    state.nacked(1, a);
    state.acked(2);
    expect(state.commitTarget()).toBe(0n);
    const again = state.take(2);
    state.delivered(3, again);
    expect(state.commitTarget()).toBe(0n);
    state.acked(3);
    expect(state.commitTarget()).toBe(4n);
  });

  it("ignores settling a read twice or one it never delivered", () => {
    const state = new PartitionState("orders", 0);
    state.accept([held(0)]);
    const a = state.take(1);
    state.delivered(1, a);
    state.acked(1);
    state.nacked(1, a);
    state.acked(7);
    expect(state.buffered).toBe(0);
    expect(state.commitTarget()).toBe(1n);
  });
});
