// Chaos inside the commit protocol of a job reading Kafka exactly once: the source is paired with
// the Kafka output of its running totals by transactionalId (the transaction commits the totals
// with the consumed offsets), beside per-batch counts and windows written to files. For each step
// of writing a batch record or a checkpoint, and between a checkpoint and the commit it leads to,
// the job kills itself (SIGKILL) right after that step, once a batch with records has started. In
// the end every word must be counted exactly once: in the files, and in the last committed total
// of every word on the Kafka topic.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTopic } from "../integration/kafka/kafka-helpers.js";
import { lockServers } from "../support/service-lock.js";
import { dieAt, expectFileOutputs, lastRunCountingTo } from "./crash-point-runs.js";
import { countWords, sorted } from "./ground-truth.js";
import { type JobProcess, SeededRandom } from "./job-process.js";
import type { ChaosJobSettings, CrashSettings } from "./jobs/word-count-settings.js";

const BATCH_MS = 250;
const KAFKA = ["127.0.0.1:9092"];
const WORDS = "red orange yellow green blue indigo violet".split(" ");

/** The steps the job dies after, once a batch with records has started. */
const CRASH_POINTS: readonly { readonly name: string; readonly crash: CrashSettings }[] = [
  {
    name: "batch record renamed, folder not flushed",
    crash: { step: "rename", path: "batch-", onceRecordsFlow: true },
  },
  {
    name: "checkpoint written, not flushed",
    crash: { step: "write", path: "checkpoint-", onceRecordsFlow: true },
  },
  {
    name: "checkpoint renamed, folder not flushed: the transaction not committed",
    crash: { step: "rename", path: "checkpoint-", onceRecordsFlow: true },
  },
  {
    name: "folder flushed after a checkpoint: the transaction not committed",
    crash: {
      step: "syncDirectory",
      path: "state",
      after: { step: "rename", path: "checkpoint-" },
      onceRecordsFlow: true,
    },
  },
  {
    name: "an old checkpoint pruned",
    crash: {
      step: "remove",
      path: "checkpoint-",
      after: { step: "rename", path: "checkpoint-" },
      onceRecordsFlow: true,
    },
  },
];

const unique = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;

let root: string;
let release: () => Promise<void>;
let kafka: Kafka;
let producer: Producer;
const topics: string[] = [];
const jobs: JobProcess[] = [];

beforeAll(async () => {
  release = await lockServers(["kafka"]);
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-kafka-crash-points-"));
  kafka = new Kafka({ clientId: "sluice-chaos", brokers: KAFKA, logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  try {
    await producer.connect();
  } catch (error) {
    throw new Error(
      `kafka is not answering on ${KAFKA[0]}: start it with scripts/services/start kafka (${String(error)})`,
    );
  }
}, 320_000);

afterAll(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  await producer?.disconnect();
  const admin = kafka?.admin();
  if (admin !== undefined && topics.length > 0) {
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
  if (root !== undefined && process.env.CHAOS_KEEP !== "1") {
    await rm(root, { recursive: true, force: true });
  }
  await release?.();
});

describe("chaos: a Kafka source paired with its sink, killed inside each step of a commit", () => {
  it(`nothing lost, nothing counted twice (${CRASH_POINTS.length + 1} crash points)`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = new SeededRandom(seed);
    const input = unique("chaos-paired-in");
    const totalsTopic = unique("chaos-paired-totals");
    const transactionalId = unique("chaos-paired-tx");
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic: input, numPartitions: 2 },
          { topic: totalsTopic, numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    topics.push(input, totalsTopic);
    const base: ChaosJobSettings = {
      // Named so that "checkpoint-" and "batch-" match only the files in it.
      checkpoint: join(root, "state"),
      batchIntervalMs: BATCH_MS,
      source: {
        kind: "kafka",
        brokers: KAFKA,
        topic: input,
        groupId: unique("chaos-paired"),
        transactionalId,
      },
      outputs: {
        counts: [{ kind: "file", directory: join(root, "out", "counts") }],
        totals: [
          { kind: "file", directory: join(root, "out", "totals") },
          { kind: "kafka", brokers: KAFKA, topic: totalsTopic, transactionalId },
        ],
        windows: [{ kind: "file", directory: join(root, "out", "windows") }],
      },
    };
    const expected = new Map<string, number>();
    let sent = 0;
    const produce = async (): Promise<void> => {
      const lines = Array.from({ length: random.int(5, 30) }, () =>
        Array.from({ length: random.int(1, 5) }, () => random.pick(WORDS)).join(" "),
      );
      await producer.send({
        topic: input,
        messages: lines.map((value) => ({ key: `line-${sent++}`, value })),
      });
      countWords(lines, expected);
    };
    // The first run dies inside its first checkpoint, before any record.
    await produce();
    const first = { step: "rename", path: "checkpoint-" } as const;
    await dieAt(base, first, "the first run's first checkpoint", jobs, seed);
    for (const point of CRASH_POINTS) {
      await produce();
      await produce();
      await dieAt(base, point.crash, point.name, jobs, seed);
    }

    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    await lastRunCountingTo(base, join(root, "out"), total, jobs);
    await expectFileOutputs(join(root, "out"), expected, BATCH_MS, seed);
    // The committed totals on Kafka: the last of every word is its count.
    const admin2 = kafka.admin();
    await admin2.connect();
    const lastTotals = new Map<string, number>();
    try {
      for (const message of await readTopic(kafka, admin2, totalsTopic)) {
        const [word, value] = JSON.parse(message.value) as [string, number];
        lastTotals.set(word, value);
      }
    } finally {
      await admin2.disconnect();
    }
    expect(sorted(lastTotals), `committed totals on Kafka (seed ${seed})`).toEqual(
      sorted(expected),
    );
    // The kills between a checkpoint and its commit left checkpoints ahead of the commits, and
    // the runs after them resumed from the checkpoint before.
    const skippedAhead = jobs.filter((job) =>
      /started .*ahead of what its sources committed/.test(job.stdout),
    ).length;
    expect(
      skippedAhead,
      `runs that skipped a checkpoint ahead of the commit (seed ${seed})`,
    ).toBeGreaterThanOrEqual(2);
    console.info(
      `chaos (Kafka paired crash points): seed ${seed}, ${CRASH_POINTS.length + 1} crashes, ${sent} lines, ${total} words, ${skippedAhead} runs skipped a checkpoint ahead of the commit`,
    );
  }, 900_000);
});
