import type { Admin, ITopicConfig } from "kafkajs";
import { SluiceError } from "sluice/connector";
import { protocolErrorType } from "../kafka-client.js";

/** The topics that carry one cluster job's keyed part. */
export interface KeyedTopics {
  /** `<group>.sluice-repartition`: the map sides' chunks and markers, one partition per keyed partition. */
  readonly repartition: string;
  /** `<group>.sluice-changelog` (compacted): each keyed partition's last committed state. */
  readonly changelog: string;
}

/**
 * The keyed topics of the job's group.
 *
 * @example
 * keyedTopicNames("word-count").changelog; // "word-count.sluice-changelog"
 */
export function keyedTopicNames(group: string): KeyedTopics {
  return { repartition: `${group}.sluice-repartition`, changelog: `${group}.sluice-changelog` };
}

/**
 * The most one record of the keyed topics may take (Kafka's default is 1 MiB): a map side's
 * chunk for one keyed partition travels in one repartition record, a keyed partition's state and
 * the chunks read ahead of it in one changelog record.
 */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/**
 * The most a keyed topic's record value may take: `MAX_RECORD_BYTES` less room for the record's
 * key and headers and the framing of the batch it travels in (`max.message.bytes` counts those).
 */
export const MAX_VALUE_BYTES = MAX_RECORD_BYTES - 64 * 1024;

/**
 * Refuses a record value of the keyed topics larger than `MAX_VALUE_BYTES` before the broker
 * does (its answer, MESSAGE_TOO_LARGE, says neither which record nor what to do), with an
 * error that says what is too large (`what`) and what to do about it (`remedy`).
 *
 * @example
 * checkKeyedValueSize(value.byteLength, "Keyed partition 3's state after batch 1000", "Use more keyed partitions.");
 */
export function checkKeyedValueSize(bytes: number, what: string, remedy: string): void {
  if (bytes <= MAX_VALUE_BYTES) return;
  throw new SluiceError(
    "SLUICE_INVALID_CONFIG",
    `${what} takes ${bytes} bytes in one record, more than the ${MAX_VALUE_BYTES} a record of the keyed topics may take (their max.message.bytes is ${MAX_RECORD_BYTES}). ${remedy}`,
  );
}

/** How long a topic created by another process may stay unknown to the broker answering. */
const NEW_TOPIC_WAIT_MS = 30_000;
const NOT_YET_KNOWN = ["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE"];

/**
 * Creates the job's keyed topics with `partitions` partitions unless they exist, and refuses
 * topics that exist with another partition count (`SLUICE_INVALID_CONFIG`): keys are placed by
 * `partitionOfKey(key, partitions)`, so the count cannot change while the topics hold state.
 *
 * @example
 * const topics = await ensureKeyedTopics(admin, "word-count", 8);
 */
export async function ensureKeyedTopics(
  admin: Admin,
  group: string,
  partitions: number,
): Promise<KeyedTopics> {
  const topics = keyedTopicNames(group);
  // Kept until the keyed partition's owner deletes what it committed past (not by age: a job
  // stopped for a while must find its records).
  await ensureTopic(admin, topics, topics.repartition, partitions, [
    { name: "retention.ms", value: "-1" },
    { name: "max.message.bytes", value: String(MAX_RECORD_BYTES) },
  ]);
  await ensureTopic(admin, topics, topics.changelog, partitions, [
    { name: "cleanup.policy", value: "compact" },
    { name: "max.message.bytes", value: String(MAX_RECORD_BYTES) },
  ]);
  return topics;
}

async function ensureTopic(
  admin: Admin,
  all: KeyedTopics,
  topic: string,
  partitions: number,
  configEntries: ITopicConfig["configEntries"],
): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, configEntries }],
      });
    } catch (error) {
      // Another process of the job created it first: its partition count is checked below.
      if (!isAlreadyThere(error)) throw error;
    }
  }
  const found = await partitionCount(admin, topic);
  if (found !== partitions) {
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `Kafka topic "${topic}" has ${found} partitions, but the job has ${partitions} keyed partitions. A job's keyed partitions cannot change while its topics hold its state: keep ${found} keyed partitions, or delete the topics "${all.repartition}" and "${all.changelog}" to start the job's keyed state over.`,
    );
  }
}

// A topic another process of the job has just created may not be known yet to the broker
// answering (its creator is still waiting for the leaders): asked again until it is, for a
// while.
async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const deadline = Date.now() + NEW_TOPIC_WAIT_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
    } catch (error) {
      const type = protocolErrorType(error) ?? "";
      if (!NOT_YET_KNOWN.includes(type) || Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlreadyThere(error: unknown): boolean {
  if (protocolErrorType(error) === "TOPIC_ALREADY_EXISTS") return true;
  const errors = (error as { errors?: unknown[] } | null)?.errors;
  return (
    Array.isArray(errors) && errors.some((e) => protocolErrorType(e) === "TOPIC_ALREADY_EXISTS")
  );
}
