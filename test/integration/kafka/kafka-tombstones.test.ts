// A job that copies a compacted topic must copy its deletes: a tombstone (a record without a
// value) read by the Kafka source reaches the Kafka sink as one, through the executors too, and
// an empty value stays an empty value.
import { StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { KafkaSource, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { SourceInputDStream } from "../../../core/src/plugins/source-input-dstream.js";
import { runFirstBatch } from "../../support/first-batch.js";
import { BROKERS, readTopic, uniqueName, until } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";

const suite = kafkaSuite();

describe("a job copying a topic", () => {
  for (const master of ["local[1]", "local[2]"] as const) {
    it(`keeps its tombstones apart from empty values (${master})`, async () => {
      const input = await suite.newTopic("tombstones-in", 2);
      const output = await suite.newTopic("tombstones-out", 2);
      await suite.producer.send({
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
      await runFirstBatch(ctx, clock, {
        whenStarted: () => until(() => source.metrics.recordsIn === 4, 30_000, "the records read"),
      });
      const copies = (await readTopic(suite.kafka, suite.admin, output))
        .map(({ key, value, tombstone }) => `${key}=${tombstone ? "<tombstone>" : `"${value}"`}`)
        .sort();
      expect(copies).toEqual(['a="1"', "a=<tombstone>", 'b=""', "c=<tombstone>"]);
    });
  }
});
