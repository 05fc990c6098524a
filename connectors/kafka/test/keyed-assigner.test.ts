import { AssignerProtocol, type Cluster } from "kafkajs";
import { describe, expect, it } from "vitest";
import { coPartitionedAssigner } from "../src/keyed/co-partitioned-assigner.js";

describe("coPartitionedAssigner", () => {
  it("gives partition r of every topic to the same member, the sorted members in turn", async () => {
    const cluster = {
      findTopicPartitionMetadata: () => [0, 1, 2, 3, 4].map((partitionId) => ({ partitionId })),
    } as unknown as Cluster;
    const assigner = coPartitionedAssigner({ cluster, groupId: "g", logger: undefined as never });
    const assigned = await assigner.assign({
      members: [{ memberId: "m-b" }, { memberId: "m-a" }].map((member) => ({
        ...member,
        memberMetadata: Buffer.alloc(0),
      })),
      topics: ["g.sluice-repartition", "g.sluice-changelog"],
    });
    const byMember = Object.fromEntries(
      assigned.map(({ memberId, memberAssignment }) => [
        memberId,
        AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment,
      ]),
    );
    expect(byMember).toEqual({
      "m-a": { "g.sluice-repartition": [0, 2, 4], "g.sluice-changelog": [0, 2, 4] },
      "m-b": { "g.sluice-repartition": [1, 3], "g.sluice-changelog": [1, 3] },
    });
  });
});
