// A job whose Kafka source and sink are paired (exactly once) loses its connections to the
// broker at a batch's first write to the output: every produce request of a while is cut off
// before it leaves (request-faults.ts, through the connectors' socket factory), longer than
// kafkajs's own retries last. The write is made again in a new transaction once requests go
// through: the job goes on without an error, and every input record is in the output once.
import type { Admin, Kafka, Producer } from "kafkajs";
import { StreamingContext } from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import {
  BROKERS,
  committedOffsets,
  connectAdmin,
  connectProducer,
  createTopic,
  readTopic,
  testKafka,
  uniqueName,
} from "./kafka-helpers.js";
import { API_KEYS, armFault, disarmFaults, faultsFired } from "./request-faults.js";
import { lockService } from "./services.js";

vi.mock("../../../connectors/kafka/src/kafka-socket.js", async (importOriginal) => {
  const original =
    await importOriginal<typeof import("../../../connectors/kafka/src/kafka-socket.js")>();
  const { faultySocketFactory } = await import("./request-faults.js");
  return {
    ...original,
    guardedSocketFactory: () => faultySocketFactory(original.guardedSocketFactory()),
  };
});

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
const topics: string[] = [];
const decoder = new TextDecoder();

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
});

afterAll(async () => {
  disarmFaults();
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describe("a paired Kafka job whose broker connection is lost at a batch's first write", () => {
  it("writes the batch again in a new transaction: nothing lost or doubled, no error", async () => {
    const input = uniqueName("lost-in");
    const output = uniqueName("lost-out");
    topics.push(input, output);
    await createTopic(admin, input, 1);
    await createTopic(admin, output, 1);
    const transactionalId = uniqueName("lost-tx");
    const groupId = uniqueName("lost-group");
    const send = (values: string[]) =>
      producer.send({ topic: input, messages: values.map((value) => ({ value })) });

    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx.use(kafkaSource, kafkaSink);
    const orders = ctx.source(
      "kafka",
      { brokers: BROKERS, topics: [input], groupId, transactionalId, startFrom: "earliest" },
      { id: "orders" },
    ) as SourceInputDStream;
    orders
      .map((record) => decoder.decode(record.value).toUpperCase())
      .sink(
        "kafka",
        // One retry of kafkajs's own: its retries end long before the connection comes back.
        { brokers: BROKERS, topic: output, transactionalId, retries: 1 },
        { id: "out", backoff: { initialDelayMs: 20, maxDelayMs: 100, multiplier: 2, jitter: 0 } },
      );
    let batch = 0;
    // Runs batches until the group's commit reaches the input's end.
    const runUntilCommitted = async () => {
      const [end] = await admin.fetchTopicOffsets(input);
      for (let tries = 0; tries < 60; tries++) {
        const committed = await committedOffsets(admin, groupId, input);
        if (committed.get(0) === end?.high) return;
        batch++;
        clock.advance(1000);
        await ctx.scope.awaitProcessed(batch * 1000);
        await new Promise(setImmediate);
      }
      throw new Error("the group's commits never reached the end of the input");
    };
    await ctx.start();
    try {
      await send(["a", "b", "c"]);
      await runUntilCommitted();

      // The next batch's first write loses its connection at every produce request.
      await send(["d", "e"]);
      armFault(API_KEYS.Produce, "request lost", Number.POSITIVE_INFINITY);
      const firedBefore = faultsFired();
      await vi.waitFor(() => expect(orders.hasPendingData()).toBe(true), { timeout: 30_000 });
      batch++;
      clock.advance(1000);
      // kafkajs gave up twice (two writes, each with one retry of its own) and the sink
      // reconnected in between: the framework is retrying, and the batch is not done.
      await vi.waitFor(() => expect(faultsFired() - firedBefore).toBeGreaterThanOrEqual(4), {
        timeout: 60_000,
        interval: 20,
      });
      expect(ctx.scope.firstError()).toBeUndefined();
      disarmFaults();
      await ctx.scope.awaitProcessed(batch * 1000);
      await runUntilCommitted();

      await send(["f"]);
      await runUntilCommitted();
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      disarmFaults();
      await ctx.stop();
    }
    const written = await readTopic(kafka, admin, output);
    expect(written.map((message) => message.value).sort()).toEqual(["A", "B", "C", "D", "E", "F"]);
  }, 120_000);
});
