// Shared bits of the Kafka integration suites (scripts/services/start kafka).
import { randomUUID } from "node:crypto";
import {
  type Admin,
  Kafka,
  type KafkaMessage,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import { readAbortedTransactionsCorrectly } from "../../../connectors/kafka/src/index.js";

export const KAFKA_PORT = 9092;
export const BROKER = `127.0.0.1:${KAFKA_PORT}`;
export const BROKERS = [BROKER];

// Errors only, without the ones the suites cause on purpose (dropped connections, restarts)
// or that a fresh broker always shows once (the offsets topic being created).
const quietLogger: logCreator =
  () =>
  ({ level, namespace, log }) => {
    if (level > logLevel.ERROR || process.env.SLUICE_TEST_KAFKA_LOGS !== "1") return;
    console.error(`[kafkajs ${namespace}] ${log.message} ${String(log.error ?? "")}`);
  };

/** A name no earlier run used, valid as a topic, group or transactional id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** A kafkajs client for the tests' own producing and checking. */
export function testKafka(): Kafka {
  return new Kafka({
    clientId: "sluice-kafka-tests",
    brokers: BROKERS,
    logLevel: logLevel.ERROR,
    logCreator: quietLogger,
    connectionTimeout: 3_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 3_000 },
  });
}

/** Connects an admin client, failing with what to run when the broker is not there. */
export async function connectAdmin(kafka: Kafka = testKafka()): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(
      `kafka is not answering on ${BROKER} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start kafka`,
      { cause: error },
    );
  }
  return admin;
}

/** Creates a topic and waits for its leaders. */
export async function createTopic(admin: Admin, topic: string, partitions = 1): Promise<void> {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  if (!created) throw new Error(`topic ${topic} already existed`);
}

/** A connected producer for the tests' input. */
export async function connectProducer(kafka: Kafka = testKafka()): Promise<Producer> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

/** One message as read back from a topic. */
export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: string;
  /** True for a record without a value (a tombstone; `value` is then ""). */
  readonly tombstone: boolean;
  readonly headers: Record<string, string>;
}

const SENTINEL = "__read-back-sentinel__";

/**
 * Every message of `topic` written so far (read_committed unless asked otherwise), in offset
 * order per partition, read by a throwaway consumer group. A sentinel record is produced to
 * each partition first and the read stops at it: a read_committed consumer sees it only once
 * every transaction before it is decided, so the result cannot miss a commit whose markers
 * the broker is still writing. Sentinels are left out of the result.
 */
export async function readTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadMessage[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions.map(({ partitionId }) => partitionId) ?? [];
  const sentinel = `${SENTINEL}${randomUUID()}`;
  const producer = await connectProducer(kafka);
  try {
    await producer.send({
      topic,
      messages: partitions.map((partition) => ({ value: sentinel, partition })),
    });
  } finally {
    await producer.disconnect();
  }
  // kafkajs alone hands out some aborted records as committed when transactions of several
  // writers interleave in a partition (see connectors/kafka/src/read-committed.ts).
  readAbortedTransactionsCorrectly();
  const consumer = kafka.consumer({
    groupId: uniqueName("read-back"),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  const messages: ReadMessage[] = [];
  const reached = new Set<number>();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (reached.has(batch.partition)) break;
          const read = asRead(batch.partition, message);
          if (read.value === sentinel) reached.add(batch.partition);
          else if (!read.value.startsWith(SENTINEL)) messages.push(read);
        }
        if (reached.size === partitions.length) done();
      },
    });
    const timeoutMs = options.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`reading ${topic} back did not reach its end within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return messages.sort((a, b) =>
    a.partition === b.partition
      ? Number(BigInt(a.offset) - BigInt(b.offset))
      : a.partition - b.partition,
  );
}

function asRead(partition: number, message: KafkaMessage): ReadMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = String(Array.isArray(value) ? value.at(-1) : value);
  }
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString(),
    value: message.value?.toString() ?? "",
    tombstone: message.value === null,
    headers,
  };
}

/** The offsets `groupId` committed for `topic`, per partition ("-1" where none). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map(({ partition, offset }) => [partition, offset]));
}

export { until } from "../../support/until.js";
