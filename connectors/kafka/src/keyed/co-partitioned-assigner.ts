import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/**
 * A kafkajs partition assigner that gives partition `r` of every subscribed topic to the same
 * member (the sorted members in turn, `r % members`), so a keyed partition's repartition and
 * changelog partitions are owned together.
 *
 * @example
 * kafka.consumer({ groupId, partitionAssigners: [coPartitionedAssigner] });
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "SluiceCoPartitioned",
  version: 0,
  async assign({ members, topics }) {
    const sorted = members.map(({ memberId }) => memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>();
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sorted[partitionId % sorted.length];
        if (member === undefined) continue;
        const byTopic = assignment.get(member) ?? {};
        byTopic[topic] = [...(byTopic[topic] ?? []), partitionId];
        assignment.set(member, byTopic);
      }
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId) ?? {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: "SluiceCoPartitioned",
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
