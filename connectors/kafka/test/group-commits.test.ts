// Which checkpoints a paired source refuses: those that used records past the group's commit.
import { describe, expect, it } from "vitest";
import { checkpointAhead, topicsOf } from "../src/group-commits.js";

describe("checkpointAhead", () => {
  it("accepts a checkpoint at or behind every commit", () => {
    const committed = new Map([
      ["orders-0", 120n],
      ["orders-1", 7n],
    ]);
    expect(checkpointAhead(new Map([["orders-0", "120"]]), committed, "job")).toBeUndefined();
    expect(
      checkpointAhead(
        new Map([
          ["orders-0", "100"],
          ["orders-1", "7"],
        ]),
        committed,
        "job",
      ),
    ).toBeUndefined();
  });

  it("names every partition the checkpoint is ahead on, one never committed included", () => {
    expect(
      checkpointAhead(
        new Map([
          ["orders-0", "121"],
          ["orders-1", "7"],
          ["my-refunds-2", "3"],
        ]),
        new Map([
          ["orders-0", 120n],
          ["orders-1", 7n],
        ]),
        "job",
      ),
    ).toBe(
      'partition orders-0: the checkpoint used records up to offset 121, group "job" committed up to 120, partition my-refunds-2: the checkpoint used records up to offset 3, group "job" committed none',
    );
  });

  it("refuses an offset that is not one, naming the partition", () => {
    expect(() => checkpointAhead(new Map([["orders-0", "x"]]), new Map(), "job")).toThrow(
      /checkpointed offset of orders-0: "x" is not a Kafka offset/,
    );
  });
});

describe("topicsOf", () => {
  it("lists each topic of the partition keys once", () => {
    expect(topicsOf(["orders-0", "orders-1", "my-refunds-2"])).toEqual(["orders", "my-refunds"]);
  });
});
