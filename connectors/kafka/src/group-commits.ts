import type { Kafka } from "kafkajs";
import { closeQuietly, SluiceError } from "sluice/connector";
import { rootMessage } from "./kafka-client.js";
import { parseOffset, parsePartitionKey, partitionKey } from "./topic-partition.js";

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The offsets a consumer group committed (the next record to read), per `"<topic>-<partition>"`
 * of the topics asked; a partition the group never committed is absent.
 *
 * @example
 * const committed = await groupCommits(kafka, "orders-job", ["orders"]);
 */
export async function groupCommits(
  kafka: Pick<Kafka, "admin">,
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const committed = new Map<string, bigint>();
    for (const { topic, partitions } of await admin.fetchOffsets({
      groupId,
      topics: [...topics],
    })) {
      for (const { partition, offset } of partitions) {
        // kafkajs reports a partition without a commit as offset "-1".
        if (/^\d+$/.test(offset)) committed.set(partitionKey(topic, partition), BigInt(offset));
      }
    }
    return committed;
  } catch (error) {
    throw new SluiceError(
      "SLUICE_NOT_CONNECTED",
      `could not read the offsets consumer group "${groupId}" committed, which decide the checkpoint the job resumes from (${rootMessage(error)}); start the job again once Kafka answers`,
      { cause: error },
    );
  } finally {
    await closeQuietly(() => admin.disconnect(), CLOSE_TIMEOUT_MS);
  }
}

/**
 * Why a checkpoint that saved `offsets` (the next record to read per partition) is ahead of the
 * group's commits — it used records the group never committed — or `undefined` when it is not.
 *
 * @example
 * checkpointAhead(new Map([["orders-0", "120"]]), new Map([["orders-0", 100n]]), "job");
 * // 'partition orders-0: the checkpoint used records up to offset 120, group "job" committed up to 100'
 */
export function checkpointAhead(
  offsets: ReadonlyMap<string, string>,
  committed: ReadonlyMap<string, bigint>,
  groupId: string,
): string | undefined {
  const ahead: string[] = [];
  for (const [key, text] of offsets) {
    const offset = parseOffset(text, `checkpointed offset of ${key}`);
    const commit = committed.get(key);
    if (commit !== undefined && offset <= commit) continue;
    ahead.push(
      `partition ${key}: the checkpoint used records up to offset ${offset}, group "${groupId}" committed ${commit === undefined ? "none" : `up to ${commit}`}`,
    );
  }
  return ahead.length === 0 ? undefined : ahead.join(", ");
}

/**
 * The topics of `"<topic>-<partition>"` keys, each once.
 *
 * @example
 * topicsOf(["orders-0", "orders-1", "refunds-0"]); // ["orders", "refunds"]
 */
export function topicsOf(keys: Iterable<string>): string[] {
  return [...new Set([...keys].map((key) => parsePartitionKey(key).topic))];
}
