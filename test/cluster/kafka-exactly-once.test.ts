// Cluster mode over Kafka, with real processes: the word count runs as several OS processes of
// one group; processes are killed (SIGKILL), added and stopped while lines arrive, and the
// per-batch counts committed to the output topic (read_committed) must add up to the counts of
// what was produced: no record lost, none counted twice, whoever counted it.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SeededRandom } from "../chaos/job-process.js";
import { lockServers } from "../support/service-lock.js";
import {
  ClusterProcesses,
  ownsEachPartitionOnce,
  partitionsOf,
} from "./kafka/cluster-processes.js";
import { CommittedCounts } from "./kafka/committed-counts.js";

const BROKERS = ["127.0.0.1:9092"];
const PARTITIONS = 6;
const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");
const WAIT_MS = 45_000;

let release: () => Promise<void>;
let kafka: Kafka;
let producer: Producer;
let processes: ClusterProcesses;
let reader: CommittedCounts;
let input: string;
let random: SeededRandom;
const expected = new Map<string, number>();

beforeEach(async () => {
  release = await lockServers(["kafka"]);
  kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Kafka is not answering on ${BROKERS[0]}: start it with scripts/services/start kafka (${String(error)})`,
    );
  }
  const id = randomUUID().slice(0, 8);
  input = `cluster-in-${id}`;
  const output = `cluster-out-${id}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: PARTITIONS },
      { topic: output, numPartitions: 2 },
    ],
  });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  reader = new CommittedCounts(BROKERS, output);
  await reader.start();
  processes = new ClusterProcesses({
    brokers: BROKERS,
    group: `cluster-wc-${id}`,
    input,
    output,
    batchIntervalMs: 250,
    // Twice the session timeout: the group gives a stalled process's partitions away.
    stallMs: 12_000,
    sessionTimeoutMs: 6_000,
  });
  random = new SeededRandom(Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000));
  expected.clear();
});

afterEach(async () => {
  await processes?.killAll();
  await reader?.stop();
  await producer?.disconnect();
  await release?.();
});

/** Produces `count` lines of 1 to 5 words, spread over the input's partitions by key. */
async function produce(count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, index) => {
    const words = Array.from({ length: random.int(1, 5) }, () => random.pick(WORDS));
    for (const word of words) expected.set(word, (expected.get(word) ?? 0) + 1);
    return { key: `line-${index}-${random.int(0, 1_000_000)}`, value: words.join(" ") };
  });
  await producer.send({ topic: input, messages });
}

function expectedWords(): number {
  let sum = 0;
  for (const count of expected.values()) sum += count;
  return sum;
}

/**
 * Waits until every produced word is in the committed output and the partitions are shared by
 * the `running` processes, each owning some.
 */
async function allCounted(what: string, running: number): Promise<void> {
  const [first] = processes.running;
  if (first === undefined) throw new Error("no process is running");
  await first
    .poll(
      () =>
        reader.words >= expectedWords() &&
        processes.running.length === running &&
        processes.running.every((process) => partitionsOf(process).length > 0) &&
        ownsEachPartitionOnce(processes.running, input, PARTITIONS),
      what,
      WAIT_MS,
    )
    .catch((error: unknown) => {
      throw new Error(
        `no ${what} within ${WAIT_MS} ms: ${reader.words} of ${expectedWords()} words committed, ${processes.running.length} of ${running} processes running\n${processes.describe()}`,
        { cause: error },
      );
    });
}

/**
 * Stops the processes still running gracefully, then waits until a sentinel written after the
 * last transaction is read, so every committed output has been read; the totals must then
 * equal the ground truth exactly.
 */
async function verifyExactlyOnce(): Promise<void> {
  const survivors = processes.running;
  for (const process of survivors) process.signal("SIGTERM");
  await Promise.all(survivors.map((process) => process.exited));
  const sentinel = `sentinel-${randomUUID()}`;
  await producer.send({
    topic: reader.topic,
    messages: [0, 1].map((partition) => ({ partition, value: JSON.stringify([sentinel, 1]) })),
  });
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error("the sentinels were not read")), WAIT_MS);
    const check = setInterval(() => {
      if (reader.totals.get(sentinel) === 2) {
        clearTimeout(deadline);
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  reader.totals.delete(sentinel);
  expect(sortedEntries(reader.totals), reader.log.join("\n")).toEqual(sortedEntries(expected));
}

function sortedEntries(counts: ReadonlyMap<string, number>): [string, number][] {
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

/** Produces a line that blocks the event loop of the process reading it, then `count` lines. */
async function produceStallThen(count: number): Promise<void> {
  await producer.send({ topic: input, messages: [{ key: "stall", value: "stall" }] });
  await produce(count);
}

describe("cluster mode over Kafka", () => {
  // A batch longer than the session timeout: the group moves the partitions while the batch
  // runs, and its commit afterwards must not count its lines a second time.
  it("a single process stalled past its session timeout counts every word exactly once", async () => {
    await produce(200);
    const stalled = processes.add();
    await allCounted("the first lines counted", 1);
    await produceStallThen(300);
    await stalled.poll(() => stalled.stdout.includes("stalling"), "the stall", WAIT_MS);
    await allCounted("every line counted after the stall", 1);
    await verifyExactlyOnce();
  }, 150_000);

  it("a process stalled past its session timeout loses its partitions and counts nothing twice", async () => {
    await produce(200);
    processes.add();
    processes.add();
    await allCounted("the first lines counted by 2 processes", 2);
    await produceStallThen(300);
    await allCounted("every line counted after a stall", 2);
    expect(processes.running.some((process) => process.stdout.includes("stalling"))).toBe(true);
    await verifyExactlyOnce();
  }, 150_000);

  it("three processes, one killed mid-run and one added later, count every word exactly once", async () => {
    await produce(400);
    for (let index = 0; index < 3; index++) processes.add();
    await allCounted("the first lines counted by 3 processes", 3);
    const [victim] = processes.running;
    if (victim === undefined) throw new Error("no process to kill");
    // Killed while the next lines are being read and counted.
    const before = reader.words;
    await produce(400);
    await victim.poll(() => reader.words > before, "the next lines being counted", WAIT_MS);
    victim.signal("SIGKILL");
    await victim.exited;
    await allCounted("every line counted by the 2 survivors", 2);
    const joiner = processes.add();
    await produce(400);
    await allCounted("every line counted after a process joined", 3);
    expect(partitionsOf(joiner).length).toBeGreaterThan(0);
    await verifyExactlyOnce();
  }, 150_000);

  it("rebalances 2 → 3 → 1 processes without losing or repeating a word", async () => {
    await produce(300);
    processes.add();
    processes.add();
    await allCounted("the first lines counted by 2 processes", 2);
    processes.add();
    await produce(300);
    await allCounted("the next lines counted by 3 processes", 3);
    const [first, second, last] = processes.running;
    if (first === undefined || second === undefined || last === undefined) {
      throw new Error("expected 3 running processes");
    }
    first.signal("SIGTERM");
    second.signal("SIGTERM");
    await produce(300);
    await Promise.all([first.exited, second.exited]);
    await allCounted("the last lines counted by 1 process", 1);
    expect(partitionsOf(last)).toHaveLength(PARTITIONS);
    await verifyExactlyOnce();
  }, 150_000);
});
