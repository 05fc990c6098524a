import { describe, expect, it } from "vitest";
import { recordBatchGroups, type SizedMessage } from "../src/record-batch-groups.js";

const sized = (name: string, bytes: number, headers = 0): SizedMessage => ({
  message: { value: name },
  bytes,
  headers,
});
const names = (groups: ReturnType<typeof recordBatchGroups>) =>
  groups.map((group) => group.map((message) => message.value));

describe("recordBatchGroups", () => {
  it("keeps the order and starts a new group where the next record would pass the limit", () => {
    // 61 bytes of batch header, 32 per record: 61 + 3 × (300 + 32) = 1057 > 1000.
    const groups = recordBatchGroups([sized("a", 300), sized("b", 300), sized("c", 300)], 1_000);
    expect(names(groups)).toEqual([["a", "b"], ["c"]]);
  });

  it("counts what each header adds", () => {
    const groups = recordBatchGroups([sized("a", 400, 5), sized("b", 400, 5)], 1_000);
    expect(names(groups)).toEqual([["a"], ["b"]]);
  });

  it("sends a record larger than the limit alone, and nothing for no records", () => {
    const groups = recordBatchGroups([sized("a", 10), sized("big", 5_000), sized("c", 10)], 1_000);
    expect(names(groups)).toEqual([["a"], ["big"], ["c"]]);
    expect(recordBatchGroups([], 1_000)).toEqual([]);
  });
});
