// End to end: lines produced to Kafka with kafkajs, a Sluice word count read through the Kafka
// source, running totals upserted into Cassandra and each batch's counts written by the file
// sink; both compared with the counts computed from what was produced.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import type { Admin, Kafka } from "kafkajs";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { kafkaSource } from "../../../connectors/kafka/src/index.js";
import {
  CONTACT_POINTS,
  uniqueName as cassandraName,
  connectClient,
  createKeyspace,
} from "../cassandra/cassandra-helpers.js";
import {
  BROKERS,
  committedOffsets,
  connectAdmin,
  connectProducer,
  createTopic,
  testKafka,
  uniqueName,
  until,
} from "./kafka-helpers.js";
import { lockService } from "./services.js";

let kafka: Kafka;
let admin: Admin;
let cassandra: Client;
let unlockKafka: () => Promise<void>;
let unlockCassandra: () => Promise<void>;
let directory: string;
const keyspace = cassandraName("e2e");
const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"];

beforeAll(async () => {
  unlockKafka = await lockService("kafka");
  unlockCassandra = await lockService("cassandra");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  cassandra = await connectClient();
  await createKeyspace(cassandra, keyspace);
  directory = await mkdtemp(join(tmpdir(), "sluice-e2e-"));
});

afterAll(async () => {
  await cassandra?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await cassandra?.shutdown();
  await admin?.disconnect();
  if (directory) await rm(directory, { recursive: true, force: true });
  await unlockCassandra?.();
  await unlockKafka?.();
});

// Deterministic lines of 1 to 6 words (a linear congruential generator, seeded).
function lines(count: number, seed: number): string[] {
  let state = seed;
  const next = (bound: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % bound;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(6) }, () => WORDS[next(WORDS.length)]).join(" "),
  );
}

function countWords(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.split(" ").filter(Boolean))
      counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

describe("Kafka to Cassandra and files, end to end", () => {
  it.each([
    ["", undefined],
    [" with checkpoints every 3 batches", 750],
  ])(
    "counts the words produced to Kafka exactly, in Cassandra and in the file sink%s",
    async (_, checkpointEvery) => {
      const topic = uniqueName("e2e-lines");
      const groupId = uniqueName("e2e-group");
      await createTopic(admin, topic, 3);
      const produced = lines(600, 42);
      const producer = await connectProducer(kafka);
      try {
        // Several sends, so the job sees the input arrive over a few batches.
        for (let start = 0; start < produced.length; start += 100) {
          await producer.send({
            topic,
            messages: produced.slice(start, start + 100).map((value, index) => ({
              key: `line-${start + index}`,
              value,
            })),
          });
        }
      } finally {
        await producer.disconnect();
      }
      const truth = countWords(produced);

      const ctx = new StreamingContext({ batchInterval: 250, appName: "e2e-word-count" });
      const output = await mkdtemp(join(directory, "run-"));
      if (checkpointEvery !== undefined) {
        ctx.checkpoint(join(output, "checkpoint"), { interval: checkpointEvery });
      }
      ctx.use(kafkaSource, cassandraSink);
      const decoder = new TextDecoder();
      const counts = ctx
        .source("kafka", {
          brokers: BROKERS,
          topics: [topic],
          groupId,
          startFrom: "earliest",
          pollTimeoutMs: 100,
          maxRecordsPerRead: 50,
        })
        .flatMap((record) => decoder.decode(record.value).split(" ").filter(Boolean))
        .map((word): [string, number] => [word, 1])
        .reduceByKey("sum");
      counts
        .updateStateByKey((values: number[], total: number | undefined) =>
          values.reduce((sum, value) => sum + value, total ?? 0),
        )
        .map(([word, total]) => JSON.stringify({ word, total }))
        .sink("cassandra", {
          contactPoints: CONTACT_POINTS,
          keyspace,
          table: checkpointEvery === undefined ? "word_totals" : "word_totals_checkpointed",
          schema: { columns: { word: "text", total: "bigint" }, partitionKey: ["word"] },
        });
      counts
        .map(([word, count]) => `${word} ${count}`)
        .sink("file", { directory: output, prefix: "counts" });

      await ctx.start();
      try {
        // Offsets are committed only after a batch's outputs: all committed means all output.
        const ends = new Map(
          (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, high]),
        );
        let committed = new Map<number, string>();
        const pollCommits = setInterval(() => {
          void committedOffsets(admin, groupId, topic).then((offsets) => {
            committed = offsets;
          });
        }, 200);
        try {
          await until(
            () => [...ends].every(([partition, end]) => committed.get(partition) === end),
            60_000,
            "the job committing every partition's end offset",
          );
        } finally {
          clearInterval(pollCommits);
        }
      } finally {
        await ctx.stop({ graceful: true });
        await closeConnectorsOf(ctx);
      }

      const rows = await cassandra.execute(
        `SELECT word, total FROM ${keyspace}.${checkpointEvery === undefined ? "word_totals" : "word_totals_checkpointed"}`,
      );
      const totals = new Map(
        rows.rows.map((row) => [String(row.get("word")), Number(row.get("total"))]),
      );
      expect(totals).toEqual(truth);

      const fromFiles = new Map<string, number>();
      const files = (await readdir(output)).filter((name) => name.startsWith("counts-"));
      expect(files.length).toBeGreaterThan(0);
      for (const name of files) {
        for (const line of (await readFile(join(output, name), "utf8")).split("\n")) {
          if (line === "") continue;
          const [word, count] = line.split(" ");
          fromFiles.set(word ?? "", (fromFiles.get(word ?? "") ?? 0) + Number(count));
        }
      }
      expect(fromFiles).toEqual(truth);
    },
    120_000,
  );
});
