// A job that copies a compacted topic must copy its deletes: a tombstone (a record without a
// value) read by the Kafka source reaches the Kafka sink as one, through the executors too, and
// an empty value stays an empty value.
import type { Admin, Kafka, Producer } from "kafkajs";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KafkaSource, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { SourceInputDStream } from "../../../core/src/plugins/source-input-dstream.js";
import {
  BROKERS,
  connectAdmin,
  connectProducer,
  createTopic,
  readTopic,
  testKafka,
  uniqueName,
  until,
} from "./kafka-helpers.js";
import { lockService } from "./services.js";

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
const topics: string[] = [];

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
});

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describe("a job copying a topic", () => {
  for (const master of ["local[1]", "local[2]"] as const) {
    it(`keeps its tombstones apart from empty values (${master})`, async () => {
      const input = uniqueName("tombstones-in");
      const output = uniqueName("tombstones-out");
      topics.push(input, output);
      await createTopic(admin, input, 2);
      await createTopic(admin, output, 2);
      await producer.send({
        topic: input,
        messages: [
          { key: "a", value: "1", partition: 0 },
          { key: "a", value: null, partition: 0 },
          { key: "b", value: "", partition: 1 },
          { key: "c", value: null, partition: 1 },
        ],
      });
      const clock = new ManualClock(0);
      const ctx = new StreamingContext({ batchInterval: 1000, clock, master });
      ctx.use(kafkaSource, kafkaSink);
      const records = ctx.source("kafka", {
        brokers: BROKERS,
        topics: [input],
        groupId: uniqueName("tombstones"),
        startFrom: "earliest",
        pollTimeoutMs: 100,
      });
      records
        .filter((record) => record.partition !== "")
        .sink("kafka", { brokers: BROKERS, topic: output });
      if (!(records instanceof SourceInputDStream)) throw new Error("expected a connector input");
      const source = records.connector.connector;
      if (!(source instanceof KafkaSource)) throw new Error("expected a KafkaSource");
      await ctx.start();
      try {
        await until(() => source.metrics.recordsIn === 4, 30_000, "the four records read");
        clock.advance(1000);
        await ctx.scope.awaitProcessed(1000);
        expect(ctx.scope.firstError()).toBeUndefined();
      } finally {
        await ctx.stop();
        await closeConnectorsOf(ctx);
      }
      const copies = (await readTopic(kafka, admin, output))
        .map(({ key, value, tombstone }) => `${key}=${tombstone ? "<tombstone>" : `"${value}"`}`)
        .sort();
      expect(copies).toEqual(['a="1"', "a=<tombstone>", 'b=""', "c=<tombstone>"]);
    });
  }
});
