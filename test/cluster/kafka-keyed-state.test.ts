// Cluster mode with keyed state, with real processes: a running word count (updateStateByKey),
// a sliding window (reduceByKeyAndWindow with an inverse) and per-batch counts, from Kafka into
// Cassandra, in several OS processes of one group. Processes are killed (SIGKILL), added and
// stopped while lines arrive. At the end every word's total and the per-batch counts summed
// equal what was produced (nothing lost, nothing counted twice, whichever process held the
// key's state), and every window equals the per-batch counts of the batches it covers.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Client } from "cassandra-driver";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChaosJobModule, JobProcess, SeededRandom } from "../chaos/job-process.js";
import {
  CONTACT_POINTS,
  connectClient,
  createKeyspace,
  uniqueName,
} from "../integration/cassandra/cassandra-helpers.js";
import { lockServers } from "../support/service-lock.js";
import { partitionsOf as allPartitionsOf } from "./kafka/cluster-processes.js";
import {
  KEYED_SETTINGS_VARIABLE,
  type KeyedJobSettings,
  WINDOW_BATCHES,
} from "./kafka/keyed-settings.js";

const BROKERS = ["127.0.0.1:9092"];
const PARTITIONS = 6;
const KEYED_PARTITIONS = 4;
const INTERVAL_MS = 500;
const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");
const WAIT_MS = 90_000;
const JOB: ChaosJobModule = {
  path: fileURLToPath(new URL("./kafka/keyed-job-process.ts", import.meta.url)),
  settingsVariable: KEYED_SETTINGS_VARIABLE,
};

let release: () => Promise<void>;
let producer: Producer;
let cassandra: Client;
let settings: KeyedJobSettings;
let random: SeededRandom;
const processes: JobProcess[] = [];
// Processes the test stops or kills; any other that exits fails the test at once.
const stopping = new Set<JobProcess>();
const expected = new Map<string, number>();

beforeEach(async () => {
  release = await lockServers(["kafka", "cassandra"]);
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Kafka is not answering on ${BROKERS[0]}: start it with scripts/services/start kafka (${String(error)})`,
    );
  }
  const id = randomUUID().slice(0, 8);
  const input = `keyed-input-${id}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: input, numPartitions: PARTITIONS }],
  });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  cassandra = await connectClient();
  const keyspace = uniqueName("keyed");
  await createKeyspace(cassandra, keyspace);
  await cassandra.execute(`CREATE TABLE ${keyspace}.totals (word text PRIMARY KEY, total bigint)`);
  await cassandra.execute(
    `CREATE TABLE ${keyspace}.windows (window_end bigint, word text, count bigint, PRIMARY KEY (window_end, word))`,
  );
  await cassandra.execute(
    `CREATE TABLE ${keyspace}.batches (batch_time bigint, word text, count bigint, PRIMARY KEY (batch_time, word))`,
  );
  settings = {
    brokers: BROKERS,
    group: `keyed-wc-${id}`,
    input,
    batchIntervalMs: INTERVAL_MS,
    keyedPartitions: KEYED_PARTITIONS,
    cassandra: CONTACT_POINTS,
    keyspace,
  };
  random = new SeededRandom(Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000));
  expected.clear();
});

afterEach(async () => {
  for (const process of processes) process.signal("SIGKILL");
  stopping.clear();
  await Promise.all(processes.splice(0).map((process) => process.exited));
  await cassandra?.execute(`DROP KEYSPACE IF EXISTS ${settings.keyspace}`).catch(() => undefined);
  await cassandra?.shutdown();
  await producer?.disconnect();
  await release?.();
});

/** The input partitions a process owns now (its keyed partitions are listed as keyed-<n>). */
function partitionsOf(process: JobProcess): string[] {
  return allPartitionsOf(process).filter((partition) => !/^keyed-\d+$/.test(partition));
}

/** The keyed partitions a process runs tasks for now. */
function keyedOf(process: JobProcess): string[] {
  return allPartitionsOf(process).filter((partition) => /^keyed-\d+$/.test(partition));
}

/** True when the running processes own every input partition once, and every keyed one. */
function ownsEachPartitionOnce(processes: readonly JobProcess[]): boolean {
  const owned = processes.flatMap(partitionsOf).sort();
  const keyed = processes.flatMap(keyedOf).sort();
  const inputs = Array.from({ length: PARTITIONS }, (_, i) => `${settings.input}-${i}`).sort();
  const tasks = Array.from({ length: KEYED_PARTITIONS }, (_, i) => `keyed-${i}`).sort();
  return (
    JSON.stringify(owned) === JSON.stringify(inputs) &&
    JSON.stringify(keyed) === JSON.stringify(tasks)
  );
}

function add(): JobProcess {
  const process = new JobProcess(settings, JOB);
  processes.push(process);
  return process;
}

function stop(process: JobProcess, signal: "SIGTERM" | "SIGKILL"): void {
  stopping.add(process);
  process.signal(signal);
}

/** True while every process the test did not stop runs; throws (failing the wait) otherwise. */
function noneDied(): boolean {
  for (const process of processes) {
    if (process.hasExited && !stopping.has(process)) {
      throw new Error(`a job process exited by itself:\n${process.describe()}`);
    }
  }
  return true;
}

function running(): JobProcess[] {
  return processes.filter((process) => !process.hasExited);
}

/** Produces `count` lines of 1 to 5 words, spread over the input's partitions by key. */
async function produce(count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, index) => {
    const words = Array.from({ length: random.int(1, 5) }, () => random.pick(WORDS));
    for (const word of words) expected.set(word, (expected.get(word) ?? 0) + 1);
    return { key: `line-${index}-${random.int(0, 1_000_000)}`, value: words.join(" ") };
  });
  await producer.send({ topic: settings.input, messages });
}

interface Tables {
  readonly totals: Map<string, number>;
  /** `${time}|${word}` → count */
  readonly windows: Map<string, number>;
  readonly batches: Map<string, number>;
}

async function readTables(): Promise<Tables> {
  const { keyspace } = settings;
  const rows = async (cql: string) =>
    (await cassandra.execute(cql, [], { fetchSize: 100_000 })).rows;
  const totals = new Map<string, number>();
  for (const row of await rows(`SELECT word, total FROM ${keyspace}.totals`)) {
    totals.set(row.word as string, Number(row.total));
  }
  const windows = new Map<string, number>();
  for (const row of await rows(`SELECT window_end, word, count FROM ${keyspace}.windows`)) {
    windows.set(`${Number(row.window_end)}|${row.word as string}`, Number(row.count));
  }
  const batches = new Map<string, number>();
  for (const row of await rows(`SELECT batch_time, word, count FROM ${keyspace}.batches`)) {
    batches.set(`${Number(row.batch_time)}|${row.word as string}`, Number(row.count));
  }
  return { totals, windows, batches };
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** Every produced word is in the running totals. */
async function totalsReach(): Promise<boolean> {
  const { totals } = await readTables();
  return sum(totals.values()) >= sum(expected.values());
}

/**
 * Waits until every produced word is counted and the input partitions are shared by the
 * `count` running processes, each owning some.
 */
async function allCounted(what: string, count: number): Promise<void> {
  const [first] = running();
  if (first === undefined) throw new Error("no process is running");
  await withDiagnosis(
    first.poll(
      async () =>
        noneDied() &&
        running().length === count &&
        running().every((process) => partitionsOf(process).length > 0) &&
        ownsEachPartitionOnce(running()) &&
        (await totalsReach()),
      what,
      WAIT_MS,
    ),
  );
}

// A wait that failed says where every process and the totals stood.
async function withDiagnosis(wait: Promise<void>): Promise<void> {
  try {
    await wait;
  } catch (error) {
    const { totals } = await readTables().catch(() => ({ totals: new Map<string, number>() }));
    const where = processes.map(
      (process, index) =>
        `process ${index}${process.hasExited ? " (exited)" : ""}: inputs ${partitionsOf(process).join(",")} keyed ${keyedOf(process).join(",")}, ${process.batches.length} batches`,
    );
    throw new Error(
      `${(error as Error).message.split("\n")[0]}\n${where.join("\n")}\ntotals ${sum(totals.values())} of ${sum(expected.values())} words`,
    );
  }
}

// Windows are complete once every batch with counts has its WINDOW_BATCHES windows written.
function windowsComplete(tables: Tables): boolean {
  for (const key of tables.batches.keys()) {
    const [time, word] = key.split("|") as [string, string];
    for (let k = 0; k < WINDOW_BATCHES; k++) {
      if (!tables.windows.has(`${Number(time) + k * INTERVAL_MS}|${word}`)) return false;
    }
  }
  return true;
}

/** Checks the tables against the ground truth once the windows after the last batch are out. */
async function verify(): Promise<void> {
  const [first] = running();
  if (first === undefined) throw new Error("no process is running");
  await first.poll(
    async () => noneDied() && windowsComplete(await readTables()),
    "the last windows",
    WAIT_MS,
  );
  const tables = await readTables();
  const sorted = (map: ReadonlyMap<string, number>) =>
    [...map].sort(([a], [b]) => a.localeCompare(b));
  // Totals: every produced word once.
  expect(sorted(tables.totals)).toEqual(sorted(expected));
  // Per-batch counts add up to the same.
  const perWord = new Map<string, number>();
  for (const [key, count] of tables.batches) {
    const word = key.split("|")[1] as string;
    perWord.set(word, (perWord.get(word) ?? 0) + count);
  }
  expect(sorted(perWord)).toEqual(sorted(expected));
  // Every window is the sum of the batches it covers.
  const wrong: string[] = [];
  for (const [key, count] of tables.windows) {
    const [time, word] = key.split("|") as [string, string];
    let inWindow = 0;
    for (let k = 0; k < WINDOW_BATCHES; k++) {
      inWindow += tables.batches.get(`${Number(time) - k * INTERVAL_MS}|${word}`) ?? 0;
    }
    if (inWindow !== count) wrong.push(`${key}: ${count}, batches say ${inWindow}`);
  }
  expect(wrong).toEqual([]);
  expect(tables.windows.size).toBeGreaterThan(0);
}

describe("cluster mode with keyed state, Kafka into Cassandra", () => {
  it("three processes, one killed mid-run and one added later: totals and windows exact", async () => {
    await produce(300);
    for (let index = 0; index < 3; index++) add();
    await allCounted("the first lines counted by 3 processes", 3);
    const [victim] = running();
    if (victim === undefined) throw new Error("no process to kill");
    const before = sum((await readTables()).totals.values());
    await produce(300);
    await victim.poll(
      async () => sum((await readTables()).totals.values()) > before,
      "the next lines being counted",
      WAIT_MS,
    );
    stop(victim, "SIGKILL");
    await victim.exited;
    await allCounted("every line counted by the 2 survivors", 2);
    const joiner = add();
    await produce(300);
    await allCounted("every line counted after a process joined", 3);
    expect(partitionsOf(joiner).length).toBeGreaterThan(0);
    await verify();
  }, 240_000);

  it("rebalances 2 → 3 → 1 processes: totals and windows exact", async () => {
    await produce(200);
    add();
    add();
    await allCounted("the first lines counted by 2 processes", 2);
    add();
    await produce(200);
    await allCounted("the next lines counted by 3 processes", 3);
    const [first, second, last] = running();
    if (first === undefined || second === undefined || last === undefined) {
      throw new Error("expected 3 running processes");
    }
    stop(first, "SIGTERM");
    stop(second, "SIGTERM");
    await produce(200);
    await Promise.all([first.exited, second.exited]);
    await allCounted("the last lines counted by 1 process", 1);
    expect(partitionsOf(last)).toHaveLength(PARTITIONS);
    await verify();
  }, 240_000);
});
