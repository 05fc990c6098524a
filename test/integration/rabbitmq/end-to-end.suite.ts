// End to end: lines published to a RabbitMQ queue with amqplib, a Sluice word count reading
// them through ctx.source("rabbitmq"), per-batch counts in the file sink and running totals in
// Cassandra, both compared with the counts of what was published; afterwards the queue is
// empty, so every message was acknowledged once its batch was output.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import {
  uniqueName as cassandraName,
  connectClient,
  createKeyspace,
} from "../cassandra/cassandra-helpers.js";
import { lockService } from "../kafka/services.js";
import { adminConnection, depth, GUEST_URL, produce, uniqueName } from "./broker.js";
import {
  cassandraTotals,
  countWords,
  fileCounts,
  lines,
  untilCounted,
  type WordCountOutputs,
  wordCount,
} from "./word-count.js";

let cassandra: Client;
let unlockCassandra: (() => Promise<void>) | undefined;
let outputs: WordCountOutputs;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("rabbitmq end to end", () => {
  beforeAll(async () => {
    // The Cassandra server-loss suite restarts the node; never run beside it.
    unlockCassandra = await lockService("cassandra");
    cassandra = await connectClient();
    outputs = {
      keyspace: cassandraName("rabbitmq_e2e"),
      table: "word_totals",
      directory: await mkdtemp(join(tmpdir(), "sluice-rabbitmq-e2e-")),
    };
    await createKeyspace(cassandra, outputs.keyspace);
  }, 360_000);

  afterAll(async () => {
    if (outputs !== undefined) {
      await cassandra
        ?.execute(`DROP KEYSPACE IF EXISTS ${outputs.keyspace}`)
        .catch(() => undefined);
      await rm(outputs.directory, { recursive: true, force: true });
    }
    await cassandra?.shutdown();
    await unlockCassandra?.();
  });

  describe("RabbitMQ to Cassandra and files, end to end", () => {
    it("counts the words published to a queue exactly, and acknowledges every message", async () => {
      const queue = uniqueName("sluice-e2e");
      const published = lines(400, 7);
      const truth = countWords(published);
      const admin = await adminConnection();
      const channel = await admin.createConfirmChannel();
      try {
        await channel.assertQueue(queue, { durable: true });
        // In several rounds, so the job sees the input arrive over a few batches.
        for (let start = 0; start < published.length; start += 100) {
          await produce(channel, queue, published.slice(start, start + 100));
        }

        const ctx = new StreamingContext({ batchInterval: 250, appName: "rabbitmq-word-count" });
        ctx.use(rabbitmqSource, cassandraSink);
        wordCount(
          ctx.source("rabbitmq", {
            url: GUEST_URL,
            queue: { name: queue, durable: true },
            prefetch: 200,
            maxRecordsPerRead: 50,
          }),
          outputs,
        );
        await ctx.start();
        try {
          const words = [...truth.values()].reduce((a, b) => a + b, 0);
          await untilCounted(outputs.directory, words, 60_000);
        } finally {
          await ctx.stop({ graceful: true });
          await closeConnectorsOf(ctx);
        }

        expect(await fileCounts(outputs.directory)).toEqual(truth);
        expect(await cassandraTotals(cassandra, outputs)).toEqual(truth);
        // Unacknowledged messages would be back in the queue now that the source is closed.
        expect(await depth(channel, queue)).toBe(0);
      } finally {
        await channel.deleteQueue(queue).catch(() => undefined);
        await admin.close();
      }
    }, 120_000);
  });
});
