import { SluiceError } from "sluice/connector";

/** A Kafka topic and partition number. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/**
 * The `SourceRecord.partition` of a Kafka partition: `"<topic>-<partition>"`, as Kafka's own
 * tools print it.
 *
 * @example
 * partitionKey("orders", 3); // "orders-3"
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * The topic and partition of a `"<topic>-<partition>"` key. Topic names may contain `-`; the
 * partition is what follows the last one.
 *
 * @example
 * parsePartitionKey("my-orders-3"); // { topic: "my-orders", partition: 3 }
 */
export function parsePartitionKey(key: string): TopicPartition {
  const match = /^(.+)-(\d+)$/.exec(key);
  if (match === null) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `"${key}" is not a Kafka partition key; expected "<topic>-<partition>", e.g. "orders-0".`,
    );
  }
  return { topic: match[1] as string, partition: Number(match[2]) };
}

/**
 * Parses a Kafka offset given as a decimal string (as records, checkpoints and `startOffsets`
 * carry them).
 *
 * @example
 * parseOffset("42", "startOffsets.orders-0"); // 42n
 */
export function parseOffset(text: string, where: string): bigint {
  if (!/^\d{1,19}$/.test(text)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${where}: "${text}" is not a Kafka offset; expected a non-negative integer such as "42".`,
    );
  }
  return BigInt(text);
}
