// A job whose Kafka source and sink are paired (exactly once) while the broker stops and starts
// again (scripts/services/stop kafka, then start) between a batch's reads and its write: the
// write fails for as long as the broker is away, Sluice reconnects, the transaction is made
// again, and the job goes on without an error. Every input record is in the output once.
import type { Admin, Kafka } from "kafkajs";
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
import { lockService, startService, stopService } from "./services.js";

let kafka: Kafka;
let admin: Admin;
let unlock: () => Promise<void>;
const decoder = new TextDecoder();
const FAST = { initialDelayMs: 50, maxDelayMs: 1_000, multiplier: 2, jitter: 0 };

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
});

afterAll(async () => {
  await admin?.disconnect().catch(() => undefined);
  // Whatever happened, leave the broker running for whoever comes next.
  await startService("kafka");
  await unlock?.();
});

describe("a paired Kafka job while the broker restarts", () => {
  it("writes the batch once the broker is back: nothing lost or doubled, no error", async () => {
    const input = uniqueName("restart-in");
    const output = uniqueName("restart-out");
    await createTopic(admin, input, 2);
    await createTopic(admin, output, 2);
    const transactionalId = uniqueName("restart-tx");
    const groupId = uniqueName("restart-group");
    let sent = 0;
    const send = async (count: number) => {
      const producer = await connectProducer(kafka);
      try {
        const values = Array.from({ length: count }, () => `r${sent++}`);
        await producer.send({
          topic: input,
          messages: values.map((value, index) => ({ key: `k${index % 7}`, value })),
        });
      } finally {
        await producer.disconnect();
      }
    };

    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
    ctx.use(kafkaSource, kafkaSink);
    const orders = ctx.source(
      "kafka",
      {
        brokers: BROKERS,
        topics: [input],
        groupId,
        transactionalId,
        startFrom: "earliest",
        pollTimeoutMs: 200,
        heartbeatIntervalMs: 500,
        // A member lost with the broker is forgotten after 6 s (the broker's minimum), so the
        // consumer's rejoin after the restart does not wait for it long.
        sessionTimeoutMs: 6_000,
        rebalanceTimeoutMs: 10_000,
      },
      { id: "orders", backoff: FAST },
    ) as SourceInputDStream;
    orders
      .map((record) => decoder.decode(record.value).toUpperCase())
      .sink(
        "kafka",
        { brokers: BROKERS, topic: output, transactionalId, retries: 1 },
        { id: "out", backoff: FAST },
      );
    let batch = 0;
    const nextBatch = async () => {
      batch++;
      clock.advance(1000);
      await ctx.scope.awaitProcessed(batch * 1000);
      await new Promise(setImmediate);
    };
    // Runs batches until the group's commits reach the input's end (at most 60), each once the
    // source holds records (after the restart the consumer takes a while to join again).
    const runUntilCommitted = async () => {
      const ends = await admin.fetchTopicOffsets(input);
      const caughtUp = async () => {
        const committed = await committedOffsets(admin, groupId, input);
        return ends.every(
          ({ partition, high }) => committed.get(partition) === (high === "0" ? "-1" : high),
        );
      };
      for (let tries = 0; tries < 60; tries++) {
        if (await caughtUp()) return;
        await vi
          .waitFor(async () => expect(orders.hasPendingData() || (await caughtUp())).toBe(true), {
            timeout: 60_000,
            interval: 50,
          })
          .catch(() => undefined);
        await nextBatch();
      }
      throw new Error(
        `the group's commits never reached the end of the input: ${JSON.stringify([...(await committedOffsets(admin, groupId, input))])} of ${JSON.stringify(ends)}; ${String(ctx.scope.firstError())}`,
      );
    };
    await ctx.start();
    try {
      await send(20);
      await runUntilCommitted();

      await send(20);
      await vi.waitFor(() => expect(orders.hasPendingData()).toBe(true), { timeout: 30_000 });
      await stopService("kafka");
      // The batch's write fails while the broker is away; the batch waits for it.
      batch++;
      clock.advance(1000);
      const written = ctx.scope.awaitProcessed(batch * 1000);
      await startService("kafka");
      await written;
      await runUntilCommitted();

      await send(10);
      await runUntilCommitted();
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      await ctx.stop();
    }
    const values = (await readTopic(kafka, admin, output)).map((message) => message.value);
    expect(values.sort()).toEqual(Array.from({ length: sent }, (_, index) => `R${index}`).sort());
  }, 240_000);
});
