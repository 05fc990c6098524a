import type { Message } from "kafkajs";

/** A message to produce and the bytes of its value, key and headers. */
export interface SizedMessage {
  readonly message: Message;
  readonly bytes: number;
  readonly headers: number;
}

// Kafka's record format v2: the record batch header, and what each record and each of its
// headers add beyond their bytes at most (a length, attributes, timestamp and offset deltas,
// key, value and header lengths, all varints).
const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 32;
const HEADER_OVERHEAD_BYTES = 10;

/**
 * Splits messages, in order, into groups sent one after the other, each at most `maxBytes` in
 * Kafka's record format (a message alone may take more). kafkajs puts a partition's messages of
 * one send into one record batch, and the broker refuses a batch over the topic's
 * `max.message.bytes` (1 MiB by default) whatever size its records have.
 *
 * @example
 * for (const messages of recordBatchGroups(sized, 1_000_000)) await producer.send({ topic, messages });
 */
export function recordBatchGroups(
  messages: readonly SizedMessage[],
  maxBytes: number,
): Message[][] {
  const groups: Message[][] = [];
  let group: Message[] = [];
  let groupBytes = BATCH_OVERHEAD_BYTES;
  for (const { message, bytes, headers } of messages) {
    const size = bytes + RECORD_OVERHEAD_BYTES + headers * HEADER_OVERHEAD_BYTES;
    if (group.length > 0 && groupBytes + size > maxBytes) {
      groups.push(group);
      group = [];
      groupBytes = BATCH_OVERHEAD_BYTES;
    }
    group.push(message);
    groupBytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
