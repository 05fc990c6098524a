// Chaos with real servers: the word count reads from Kafka, RabbitMQ or MQTT and writes every
// output to Cassandra and to the file sink, while it is killed with SIGKILL at random moments and
// restarted with getOrCreate. At the end the Cassandra tables and the files must equal the counts
// of what was produced: no record lost, none counted twice.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as amqpConnect } from "amqplib";
import { Client } from "cassandra-driver";
import { Kafka, logLevel } from "kafkajs";
import { connectAsync as mqttConnect } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockServers, type ServerName as Server } from "../support/service-lock.js";
import { chaosRun, problemTimes, runHistory } from "./chaos-run.js";
import {
  consistencyProblems,
  countWords,
  readCassandraRows,
  readFileOutput,
  sorted,
  sumOverBatches,
} from "./ground-truth.js";
import { type JobProcess, SeededRandom } from "./job-process.js";
import {
  type ChaosJobSettings,
  type OutputTarget,
  RECORD_ID_HEADERS,
  type SourceSettings,
} from "./jobs/word-count-settings.js";
import { prepareMqttSession } from "./mqtt-session.js";

const BATCH_MS = 250;
const KILLS = 10;
const CASSANDRA = ["127.0.0.1:9042"];
const KAFKA = ["127.0.0.1:9092"];
const RABBITMQ = "amqp://guest:guest@127.0.0.1:5672";
const MQTT = "mqtt://127.0.0.1:1883";
const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split(" ");

let root: string;
let jobs: JobProcess[];
let cassandra: Client;
let keyspace: string;
let release: () => Promise<void>;

const unique = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${randomUUID().replaceAll("-", "").slice(0, 8)}`;

async function setUp(servers: Server[]): Promise<void> {
  release = await lockServers(servers);
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-brokers-"));
  jobs = [];
  cassandra = new Client({ contactPoints: CASSANDRA, localDataCenter: "datacenter1" });
  try {
    await cassandra.connect();
  } catch (error) {
    throw new Error(
      `cassandra is not answering on ${CASSANDRA[0]}: start it with scripts/services/start cassandra (${String(error)})`,
    );
  }
  keyspace = unique("chaos");
  await cassandra.execute(
    `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  );
}

beforeEach(() => {
  jobs = [];
});

afterEach(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  await cassandra?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await cassandra?.shutdown();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  await release?.();
});

function settings(source: SourceSettings): ChaosJobSettings {
  const outputs = (name: "counts" | "totals" | "windows"): OutputTarget[] => [
    { kind: "file", directory: join(root, "out", name) },
    { kind: "cassandra", contactPoints: CASSANDRA, keyspace, table: name },
  ];
  return {
    checkpoint: join(root, "checkpoint"),
    batchIntervalMs: BATCH_MS,
    source,
    outputs: { counts: outputs("counts"), totals: outputs("totals"), windows: outputs("windows") },
  };
}

/** Lines of 1 to 6 words, each with an id, and their word counts. */
function lines(random: SeededRandom, count: number): { id: string; text: string }[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `line-${index}`,
    text: Array.from({ length: random.int(1, 6) }, () => random.pick(WORDS)).join(" "),
  }));
}

/** Sends `all` in chunks of 10 to 40, 40 to 120 ms apart (while the job runs and dies). */
async function inChunks<T>(
  random: SeededRandom,
  all: readonly T[],
  signal: AbortSignal,
  send: (chunk: T[]) => Promise<void>,
) {
  for (let start = 0; start < all.length && !signal.aborted; ) {
    const size = random.int(10, 40);
    await send(all.slice(start, start + size));
    start += size;
    await new Promise((resolve) => setTimeout(resolve, random.int(40, 120)));
  }
}

async function counted(): Promise<number> {
  const counts = sumOverBatches(await readFileOutput(join(root, "out", "counts")));
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

async function verify(expected: ReadonlyMap<string, number>): Promise<void> {
  const fileCounts = await readFileOutput(join(root, "out", "counts"));
  const fileTotals = await readFileOutput(join(root, "out", "totals"));
  const fileWindows = await readFileOutput(join(root, "out", "windows"));
  expect(sorted(sumOverBatches(fileCounts)), "files: counts").toEqual(sorted(expected));
  const fileProblems = consistencyProblems(fileCounts, fileTotals, fileWindows, BATCH_MS);
  expect(fileProblems, `files\n${runHistory(jobs, problemTimes(fileProblems))}`).toEqual([]);

  const counts = await readCassandraRows(cassandra, keyspace, "counts", "count", true);
  const windows = await readCassandraRows(cassandra, keyspace, "windows", "count", true);
  const totals = await readCassandraRows(cassandra, keyspace, "totals", "total", false);
  expect(sorted(sumOverBatches(counts)), "cassandra: counts").toEqual(sorted(expected));
  expect(sorted(totals.get(0) ?? new Map()), "cassandra: totals").toEqual(sorted(expected));
  const storeProblems = consistencyProblems(counts, new Map(), windows, BATCH_MS);
  expect(storeProblems, `cassandra\n${runHistory(jobs, problemTimes(storeProblems))}`).toEqual([]);
  // The same batches in both stores.
  expect([...counts.keys()].sort()).toEqual([...fileCounts.keys()].sort());
}

async function runVariant(
  describe: string,
  source: SourceSettings,
  produce: (
    random: SeededRandom,
    all: { id: string; text: string }[],
    signal: AbortSignal,
  ) => Promise<void>,
): Promise<void> {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const random = new SeededRandom(seed);
  const all = lines(random, 1500);
  const expected = new Map<string, number>();
  countWords(
    all.map((line) => line.text),
    expected,
  );
  const words = [...expected.values()].reduce((a, b) => a + b, 0);
  const summary = await chaosRun({
    settings: settings(source),
    random,
    kills: KILLS,
    produce: (signal) => produce(random, all, signal),
    counted,
    words: () => words,
    jobs,
    describe: `${describe} (seed ${seed})`,
  });
  expect(summary.killedWhileRunning, `seed ${seed}`).toBeGreaterThanOrEqual(KILLS / 2);
  await verify(expected);
  console.info(
    `chaos (${describe}): seed ${seed}, ${all.length} lines, ${words} words, ${KILLS} kills (${summary.killedWhileRunning} while running), ${summary.replayedBatches} batches replayed`,
  );
}

describe("chaos: brokers in, Cassandra and files out", () => {
  it(`Kafka: nothing lost, nothing counted twice across ${KILLS} SIGKILLs`, async () => {
    await setUp(["cassandra", "kafka"]);
    const topic = unique("chaos-lines");
    const kafka = new Kafka({
      clientId: "sluice-chaos",
      brokers: KAFKA,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await runVariant(
        "kafka",
        { kind: "kafka", brokers: KAFKA, topic, groupId: unique("chaos-group") },
        (random, all, signal) =>
          inChunks(random, all, signal, async (chunk) => {
            await producer.send({
              topic,
              messages: chunk.map((line) => ({ key: line.id, value: line.text })),
            });
          }),
      );
    } finally {
      await producer.disconnect();
    }
  }, 480_000);

  it(`RabbitMQ: nothing lost, nothing counted twice across ${KILLS} SIGKILLs`, async () => {
    await setUp(["cassandra", "rabbitmq"]);
    const queue = unique("chaos-lines");
    const connection = await amqpConnect(RABBITMQ);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    try {
      await runVariant(
        "rabbitmq",
        { kind: "rabbitmq", url: RABBITMQ, queue },
        (random, all, signal) =>
          inChunks(random, all, signal, async (chunk) => {
            for (const line of chunk) {
              channel.sendToQueue(queue, Buffer.from(line.text), {
                persistent: true,
                messageId: line.id,
              });
            }
            await channel.waitForConfirms();
          }),
      );
    } finally {
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    }
  }, 480_000);

  it(`MQTT: nothing lost, nothing counted twice across ${KILLS} SIGKILLs`, async () => {
    await setUp(["cassandra", "mosquitto"]);
    const topic = `sluice/chaos/${unique("lines")}`;
    const clientId = unique("sluice-chaos-job");
    await prepareMqttSession(MQTT, clientId, topic);
    const publisher = await mqttConnect(MQTT, { protocolVersion: 5 });
    try {
      await runVariant(
        "mqtt",
        { kind: "mqtt", url: MQTT, clientId, topic },
        (random, all, signal) =>
          inChunks(random, all, signal, async (chunk) => {
            await Promise.all(
              chunk.map((line) =>
                publisher.publishAsync(topic, line.text, {
                  qos: 1,
                  properties: { userProperties: { [RECORD_ID_HEADERS.mqtt]: line.id } },
                }),
              ),
            );
          }),
      );
    } finally {
      await publisher.endAsync();
    }
  }, 480_000);
});
