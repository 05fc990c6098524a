import { describe, expect, it } from "vitest";
import { KeptWrites, NO_WRITES } from "../src/kept-writes.js";

const message = (value: string, key?: string) => ({
  value: Buffer.from(value),
  key: key === undefined ? null : Buffer.from(key),
});

describe("KeptWrites", () => {
  it("keeps every write's groups in order, with the transaction's first batch time", () => {
    const kept = new KeptWrites(1_000, 5_000);
    const first = [[message("a")], [message("b", "k")]];
    const second = [[message("c")]];
    kept.add(first);
    kept.add(second);
    expect(kept.lost()).toEqual({ groups: [...first, ...second], batchTime: 5_000 });
  });

  it("a copy: groups kept later are not in what was lost before", () => {
    const kept = new KeptWrites(1_000, 1_000);
    kept.add([[message("a")]]);
    const lost = kept.lost();
    kept.add([[message("b")]]);
    expect(lost?.groups).toHaveLength(1);
  });

  it("keeps nothing more once values and keys pass the bound", () => {
    const kept = new KeptWrites(10, 1_000);
    kept.add([[message("12345", "12")]]); // 7 bytes
    expect(kept.lost()?.groups).toHaveLength(1);
    kept.add([[message("123", "4")]]); // 11 bytes
    expect(kept.lost()).toBeUndefined();
    kept.add([[message("")]]);
    expect(kept.lost()).toBeUndefined();
  });

  it("nothing written loses nothing", () => {
    expect(new KeptWrites(10, Number.NaN).lost()?.groups).toEqual([]);
    expect(NO_WRITES.groups).toEqual([]);
  });
});
