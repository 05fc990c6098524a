// What most Kafka test files set up the same way: the broker locked for the file, an admin and a
// producer connected, and the topics the tests made deleted afterwards.
import type { Admin, Kafka, Producer } from "kafkajs";
import { afterAll, beforeAll } from "vitest";
import {
  connectAdmin,
  connectProducer,
  createTopic,
  testKafka,
  uniqueName,
} from "./kafka-helpers.js";
import { lockService } from "./services.js";

/** The file's clients (valid inside its tests) and a maker of topics it cleans up. */
export interface KafkaSuite {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  /** A new topic named after `prefix`, deleted after the file's tests. */
  newTopic(prefix: string, partitions?: number): Promise<string>;
  /** A new topic of exactly this name (a pattern's test chooses them), deleted afterwards too. */
  newTopicNamed(name: string, partitions?: number): Promise<string>;
}

/**
 * Registers the file's hooks: Kafka locked, an admin and a producer connected; all undone after
 * its tests, the topics made by `newTopic` deleted.
 *
 * @example
 * const suite = kafkaSuite();
 * const topic = await suite.newTopic("orders", 2);
 */
export function kafkaSuite(): KafkaSuite {
  let kafka: Kafka | undefined;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let unlock: (() => Promise<void>) | undefined;
  const topics: string[] = [];

  beforeAll(async () => {
    unlock = await lockService("kafka");
    kafka = testKafka();
    admin = await connectAdmin(kafka);
    producer = await connectProducer(kafka);
    // The lock may be held by another file for a while (lockService waits up to 300 s).
  }, 320_000);

  afterAll(async () => {
    await producer?.disconnect();
    if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
    await admin?.disconnect();
    await unlock?.();
  });

  const connected = <T>(client: T | undefined): T => {
    if (client === undefined) throw new Error("the suite's Kafka clients are not connected yet");
    return client;
  };

  return {
    get kafka() {
      return connected(kafka);
    },
    get admin() {
      return connected(admin);
    },
    get producer() {
      return connected(producer);
    },
    newTopic(prefix: string, partitions = 1): Promise<string> {
      return this.newTopicNamed(uniqueName(prefix), partitions);
    },
    async newTopicNamed(name: string, partitions = 1): Promise<string> {
      topics.push(name);
      await createTopic(connected(admin), name, partitions);
      return name;
    },
  };
}
