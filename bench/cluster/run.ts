/**
 * Cluster benchmark (`node --import tsx bench/cluster/run.ts [--quick] [--rounds=N] [--only=C0,C1,C2,C3] [--trace] [--cpu-prof=<dir>]`): the same Kafka job run
 * by one process pinned to one core (`taskset -c 0`) and by two processes of one cluster, each
 * pinned to its own core (`taskset -c 0`, `taskset -c 1`). Workloads: C1, a CPU-bound stateless
 * step (sha256 rounds per word) before a per-batch count; C2, the per-batch word count
 * (reduceByKey per batch, exactly-once into Kafka); C3, the keyed job of test/cluster (a running
 * word count with updateStateByKey, a sliding window and per-batch counts, into Cassandra),
 * whose pairs go through the repartition topic to the keyed tasks; and C0, the machine's
 * ceiling, C1's work per word in a plain Node loop without Sluice or brokers, pinned the same
 * way (what two cores of this machine give at best). The processes join first and count a
 * warm-up input (a fifth of the lines); then the whole input is produced in one Kafka transaction, which the processes (reading read_committed) see
 * only when it commits, and the run is timed from that commit until every word is in the
 * committed output (C3: in the running totals in Cassandra); the producer thus never shares the
 * timed run's cores. Each input partition's intake is capped above what two processes take (the
 * rate estimator off), so batches stay even instead of one batch taking the whole backlog.
 * Reports the median words per second of N rounds (default 3), one and two processes
 * alternating, and the ratio two/one side by side (a ratio, never asserted), with the load
 * average, the job processes' CPU seconds per million words (what a second process adds in
 * work) and how busy the rest of the machine was meanwhile (Linux /proc). Needs Kafka on
 * 127.0.0.1:9092 (and Cassandra on 127.0.0.1:9042 for C3).
 * `--cpu-prof=<dir>` has every job process write a V8 CPU profile into `<dir>` when it stops;
 * `BENCH_LOG_LEVEL=info` gives the job processes that log level (default error), on stderr.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { type Admin, Kafka, logLevel, type Producer } from "kafkajs";
import { CommittedCounts } from "../../test/cluster/kafka/committed-counts.js";
import {
  KEYED_SETTINGS_VARIABLE,
  type KeyedJobSettings,
} from "../../test/cluster/kafka/keyed-settings.js";
import { type ClusterJobSettings, SETTINGS_VARIABLE } from "../../test/cluster/kafka/settings.js";
import {
  CONTACT_POINTS,
  connectClient,
  createKeyspace,
  uniqueName,
} from "../../test/integration/cassandra/cassandra-helpers.js";
import { lockServers } from "../../test/support/service-lock.js";

const BROKERS = ["127.0.0.1:9092"];
const PARTITIONS = 6;
// The default: a batch of the whole backlog blocks a process's event loop for seconds, and with
// the tests' 6 s its partitions would move in the middle of the measurement.
const SESSION_TIMEOUT_MS = 30_000;
const JOB = fileURLToPath(new URL("../../test/cluster/kafka/word-count-job.ts", import.meta.url));
const KEYED_JOB = fileURLToPath(
  new URL("../../test/cluster/kafka/keyed-job-process.ts", import.meta.url),
);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");

interface Workload {
  readonly name: string;
  readonly lines: number;
  readonly spinPerWord: number;
  /**
   * Input lines per second per partition, above what two processes take: batches stay even (a
   * second or so of work) instead of one batch taking the whole backlog and blocking its
   * process for many seconds.
   */
  readonly maxRatePerPartition: number;
  /** The keyed job into Cassandra instead of the per-batch count into Kafka. */
  readonly keyed?: boolean;
}

/** Where a run's output is read: how many words it has counted so far. */
interface OutputReader {
  words(): Promise<number>;
  stop(): Promise<void>;
}

interface Measurement {
  readonly workload: string;
  readonly processes: number;
  readonly words: number;
  readonly seconds: number;
  readonly wordsPerSecond: number;
  /** CPU seconds the job processes used per million words during the timed run (Linux). */
  readonly cpuPerMillionWords: number | undefined;
  /** Cores' worth of CPU the rest of the machine (servers, other work) used meanwhile (Linux). */
  readonly otherCores: number | undefined;
}

// Linux's clock ticks per second for /proc times (USER_HZ, 100 on every common kernel).
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) process `pid` has used, from /proc; undefined elsewhere. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (in parentheses, which may hold spaces): utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has been busy (every core, not idle nor waiting on I/O). */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
      CLOCK_TICKS
    );
  } catch {
    return undefined;
  }
}

function sumDefined(values: readonly (number | undefined)[]): number | undefined {
  let sum = 0;
  for (const value of values) {
    if (value === undefined) return undefined;
    sum += value;
  }
  return sum;
}

/** One pinned job process, watched for its `partitions` lines. */
class PinnedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #stdout = "";

  constructor(
    core: number,
    settings: ClusterJobSettings | KeyedJobSettings,
    job = JOB,
    variable = SETTINGS_VARIABLE,
    cpuProfileDir?: string,
  ) {
    const profile =
      cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`];
    this.child = spawn(
      "taskset",
      [
        "-c",
        String(core),
        process.execPath,
        ...profile,
        "--conditions=sluice-source",
        "--import",
        "tsx",
        job,
      ],
      {
        cwd: REPO,
        env: {
          ...process.env,
          [variable]: JSON.stringify(settings),
          SLUICE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stdout += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once("close", () => resolve()));
  }

  /** The last line the process wrote (progress in failure reports). */
  get lastLine(): string {
    const lines = this.#stdout.trimEnd().split("\n");
    return lines[lines.length - 1] ?? "";
  }

  /** Everything the process wrote to stdout (`--trace`). */
  get output(): string {
    return this.#stdout;
  }

  get partitions(): string[] {
    const lines = [...this.#stdout.matchAll(/^partitions (.*)$/gm)];
    const last = lines[lines.length - 1]?.[1];
    return last === undefined || last === "" ? [] : last.split(",");
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitFor(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts the processes of a run and a reader of its output. */
async function launch(
  workload: Workload,
  cores: readonly number[],
  id: string,
  input: string,
  admin: ReturnType<Kafka["admin"]>,
  cpuProfileDir?: string,
): Promise<{ processes: PinnedProcess[]; reader: OutputReader; cleanUp: () => Promise<void> }> {
  if (workload.keyed === true) {
    const cassandra = await connectClient();
    const keyspace = uniqueName("bench_keyed");
    await createKeyspace(cassandra, keyspace);
    for (const table of [
      "totals (word text PRIMARY KEY, total bigint)",
      "windows (window_end bigint, word text, count bigint, PRIMARY KEY (window_end, word))",
      "batches (batch_time bigint, word text, count bigint, PRIMARY KEY (batch_time, word))",
    ]) {
      await cassandra.execute(`CREATE TABLE ${keyspace}.${table}`);
    }
    const settings: KeyedJobSettings = {
      brokers: BROKERS,
      group: `bench-keyed-${id}`,
      input,
      batchIntervalMs: 500,
      keyedPartitions: 4,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      maxRatePerPartition: workload.maxRatePerPartition,
      cassandra: CONTACT_POINTS,
      keyspace,
    };
    const processes = cores.map(
      (core) =>
        new PinnedProcess(core, settings, KEYED_JOB, KEYED_SETTINGS_VARIABLE, cpuProfileDir),
    );
    const reader: OutputReader = {
      words: async () => {
        let sum = 0;
        const result = await cassandra.execute(`SELECT total FROM ${keyspace}.totals`);
        for (const row of result.rows) sum += Number(row.total);
        return sum;
      },
      stop: async () => {
        await cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
        await cassandra.shutdown();
      },
    };
    const group = settings.group;
    return {
      processes,
      reader,
      cleanUp: () =>
        admin
          .deleteTopics({
            topics: [input, `${group}.sluice-repartition`, `${group}.sluice-changelog`],
          })
          .catch(() => undefined),
    };
  }
  const output = `bench-cluster-out-${id}`;
  await createTopic(admin, output, 2);
  const settings: ClusterJobSettings = {
    brokers: BROKERS,
    group: `bench-cluster-${id}`,
    input,
    output,
    batchIntervalMs: 500,
    spinPerWord: workload.spinPerWord,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    maxRatePerPartition: workload.maxRatePerPartition,
    transactionTimeoutMs: 60_000,
  };
  const committed = new CommittedCounts(BROKERS, output);
  await committed.start();
  return {
    processes: cores.map(
      (core) => new PinnedProcess(core, settings, JOB, SETTINGS_VARIABLE, cpuProfileDir),
    ),
    reader: { words: async () => committed.words, stop: () => committed.stop() },
    cleanUp: () => admin.deleteTopics({ topics: [input, output] }).catch(() => undefined),
  };
}

async function measure(
  workload: Workload,
  cores: readonly number[],
  options: { log: (line: string) => void; trace?: boolean; cpuProfileDir?: string },
): Promise<Measurement> {
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const id = randomUUID().slice(0, 8);
  const input = `bench-cluster-in-${id}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, input, PARTITIONS);
  const { processes, reader, cleanUp } = await launch(
    workload,
    cores,
    id,
    input,
    admin,
    options.cpuProfileDir,
  );
  const producer = kafka.producer({
    transactionalId: `${input}.producer`,
    idempotent: true,
    maxInFlightRequests: 1,
    // Producing the whole input may take a while on a busy machine.
    transactionTimeout: 300_000,
  });
  const inputPartitions = (p: PinnedProcess) => p.partitions.filter((x) => !/^keyed-\d+$/.test(x));
  try {
    await waitUntil(
      () =>
        processes.every((p) => inputPartitions(p).length > 0) &&
        processes.reduce((sum, p) => sum + inputPartitions(p).length, 0) === PARTITIONS,
      "partitions shared among the processes",
      120_000,
    );
    await producer.connect();
    // A warm-up input first, counted before the timed one: the processes then measure in their
    // steady state (code compiled by the JIT, heaps grown, connections and transactions set up).
    // Without it each process pays its own warm-up inside the timed run, which weighs more the
    // shorter the run and counts twice with two processes.
    const warmUp = await produceLines(producer, input, 0, Math.ceil(workload.lines / 5));
    await waitFor(
      async () => (await reader.words()) >= warmUp,
      "the warm-up input counted",
      300_000,
    );
    const words = await produceLines(producer, input, workload.lines, workload.lines);
    const started = performance.now();
    const jobCpuBefore = sumDefined(processes.map((p) => processCpuSeconds(p.child.pid)));
    const machineBefore = machineBusySeconds();
    let lastReport = performance.now();
    await waitFor(
      async () => {
        const counted = (await reader.words()) - warmUp;
        const now = performance.now();
        if (now - lastReport > 10_000) {
          lastReport = now;
          options.log(
            `  ${counted} of ${words} words output; ${processes.map((p) => p.lastLine).join(" | ")}`,
          );
        }
        return counted >= words;
      },
      "complete output",
      300_000,
    );
    const seconds = (performance.now() - started) / 1000;
    const jobCpuAfter = sumDefined(processes.map((p) => processCpuSeconds(p.child.pid)));
    const machineAfter = machineBusySeconds();
    const counted = (await reader.words()) - warmUp;
    if (counted !== words) throw new Error(`counted ${counted} words, produced ${words}`);
    const jobCpu =
      jobCpuBefore === undefined || jobCpuAfter === undefined
        ? undefined
        : jobCpuAfter - jobCpuBefore;
    const machine =
      machineBefore === undefined || machineAfter === undefined
        ? undefined
        : machineAfter - machineBefore;
    return {
      workload: workload.name,
      processes: cores.length,
      words,
      seconds,
      wordsPerSecond: words / seconds,
      cpuPerMillionWords: jobCpu === undefined ? undefined : jobCpu / (words / 1e6),
      otherCores:
        jobCpu === undefined || machine === undefined ? undefined : (machine - jobCpu) / seconds,
    };
  } finally {
    for (const p of processes) p.child.kill("SIGTERM");
    if (options.trace === true) {
      for (const p of processes) options.log(`--- process ${p.child.pid}\n${p.output}`);
    }
    await Promise.all(processes.map((p) => p.exited));
    await producer.disconnect();
    await reader.stop();
    await cleanUp();
    await admin.disconnect();
  }
}

/**
 * Produces `count` lines of 1 to 5 words, numbered from `first`, into `topic` in one Kafka
 * transaction, which the processes (reading read_committed) see only once it commits: a run is
 * timed from the commit until every word is in the output. Timed from the first record produced
 * instead, the run measured the producer, which shares the cores with the processes (and took
 * 12 s or 21 s for the same input, depending on how busy the cores were), whenever the job is
 * faster than the producer (C3). Returns the number of words.
 */
async function produceLines(
  producer: Producer,
  topic: string,
  first: number,
  count: number,
): Promise<number> {
  let words = 0;
  const messages = Array.from({ length: count }, (_, offset) => {
    const index = first + offset;
    const wordsInLine = 1 + (index % 5);
    words += wordsInLine;
    return {
      key: `line-${index}`,
      value: Array.from({ length: wordsInLine }, (_, w) => WORDS[(index + w) % WORDS.length]).join(
        " ",
      ),
    };
  });
  const transaction = await producer.transaction();
  try {
    for (let start = 0; start < messages.length; start += 10_000) {
      await transaction.send({ topic, messages: messages.slice(start, start + 10_000) });
    }
  } catch (error) {
    await transaction.abort().catch(() => undefined);
    throw error;
  }
  await transaction.commit();
  return words;
}

/**
 * Creates `topic` and waits for its leaders. A broker started a moment before may answer the
 * wait's metadata request with UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created:
 * waited for again, up to 30 s.
 */
async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let first = true; ; first = false) {
    try {
      if (first)
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions }] });
      else await admin.fetchTopicMetadata({ topics: [topic] });
      return;
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (type !== "UNKNOWN_TOPIC_OR_PARTITION" || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

// C0's work: sha256 rounds over the C1 words in a plain loop, no Sluice and no broker.
const CEILING_LOOP = `
const { createHash } = require("node:crypto");
const words = ${JSON.stringify(WORDS)};
const [count, rounds] = process.argv.slice(1).map(Number);
let kept = 0;
for (let index = 0; index < count; index++) {
  let digest = words[index % words.length];
  for (let round = 0; round < rounds; round++) digest = createHash("sha256").update(digest).digest("hex");
  kept += digest.length;
}
process.stdout.write(String(kept));
`;

/**
 * C0, the machine's own ceiling: the C1 work per word in a plain Node loop, `words` words in
 * one process pinned to core 0, or half of them in each of two processes pinned to cores 0 and 1
 * at once. Words per second.
 */
async function measureCeiling(words: number, cores: readonly number[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    cores.map(
      (core) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            "taskset",
            [
              "-c",
              String(core),
              process.execPath,
              "-e",
              CEILING_LOOP,
              String(Math.floor(words / cores.length)),
              "20",
            ],
            { stdio: ["ignore", "ignore", "inherit"] },
          );
          child.once("error", reject);
          child.once("close", (code) =>
            code === 0 ? resolve() : reject(new Error(`the C0 loop exited with ${code}`)),
          );
        }),
    ),
  );
  return words / ((performance.now() - started) / 1000);
}

function describe(value: number | undefined, digits: number): string {
  return value === undefined ? "n/a" : value.toFixed(digits);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Runs every workload with one process on one core and two processes on two cores. */
export async function main(options: {
  quick: boolean;
  log: (line: string) => void;
  /** Workload names to run by their prefix (C0, C1, C2, C3); all when absent. */
  only?: readonly string[];
  /** Logs each process's output (its partitions and batches) after each run. */
  trace?: boolean;
  /** Where each job process writes its V8 CPU profile when it stops (`--cpu-prof`). */
  cpuProfileDir?: string;
  /** Runs of each side per workload, alternating one and two processes (default 3; quick 1). */
  rounds?: number;
}): Promise<string> {
  const scale = options.quick ? 1 : 4;
  const rounds = options.rounds ?? (options.quick ? 1 : 3);
  const workloads: Workload[] = [
    {
      name: "C1 CPU-bound stateless (sha256 x20 per word)",
      // Long enough (1.4 M words, about 10 s for two processes) that the pipeline's fill and
      // drain (a batch interval, the last batch's commit) are short beside the run.
      lines: 120_000 * scale,
      spinPerWord: 20,
      maxRatePerPartition: 12_000,
    },
    {
      name: "C2 per-batch word count",
      lines: 100_000 * scale,
      spinPerWord: 0,
      maxRatePerPartition: 100_000,
    },
    {
      name: "C3 keyed: running totals, window, per-batch counts into Cassandra",
      // Long enough (12 M words, about 10 s for two processes) that the pipeline's fill and
      // drain (a batch interval, the map side's commit, the keyed batch and its commit, about a
      // second in all) are short beside the run.
      lines: 1_000_000 * scale,
      spinPerWord: 0,
      maxRatePerPartition: 80_000,
      keyed: true,
    },
  ].filter(
    (workload) =>
      options.only === undefined || options.only.some((name) => workload.name.startsWith(name)),
  );
  // Kafka tests running meanwhile would share the broker's core with the contenders.
  const release = await lockServers(["kafka", "cassandra"]);
  const loadBefore = loadavg()[0] ?? 0;
  const rows: string[] = [];
  try {
    if (options.only === undefined || options.only.includes("C0")) {
      const words = 100_000 * scale;
      options.log("C0 the machine's ceiling: the C1 work in a plain loop, 1 then 2 processes...");
      const ones: number[] = [];
      const twos: number[] = [];
      for (let round = 0; round < rounds; round++) {
        ones.push(await measureCeiling(words, [0]));
        twos.push(await measureCeiling(words, [0, 1]));
      }
      const one = median(ones);
      const two = median(twos);
      rows.push(
        `| C0 ceiling: C1's sha256 work in a plain Node loop, no Sluice, no broker | ${words} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${(two / one).toFixed(2)}x | – | – |`,
      );
    }
    for (const workload of workloads) {
      const ones: Measurement[] = [];
      const twos: Measurement[] = [];
      let words = 0;
      // Alternating, so a change in the machine's load falls on both sides.
      for (let round = 0; round < rounds; round++) {
        options.log(`${workload.name}, round ${round + 1}: 1 process on core 0...`);
        const one = await measure(workload, [0], options);
        options.log(`${workload.name}, round ${round + 1}: 2 processes on cores 0 and 1...`);
        const two = await measure(workload, [0, 1], options);
        ones.push(one);
        twos.push(two);
        words = one.words;
        options.log(
          `  1 process ${one.wordsPerSecond.toFixed(0)} words/s, 2 processes ${two.wordsPerSecond.toFixed(0)} words/s; job CPU s per M words ${describe(one.cpuPerMillionWords, 1)} / ${describe(two.cpuPerMillionWords, 1)}; rest of the machine busy ${describe(one.otherCores, 2)} / ${describe(two.otherCores, 2)} cores`,
        );
      }
      const one = median(ones.map((m) => m.wordsPerSecond));
      const two = median(twos.map((m) => m.wordsPerSecond));
      const medianOf = (list: Measurement[], of: (m: Measurement) => number | undefined) => {
        const values = list.map(of);
        return values.every((v) => v !== undefined) ? median(values as number[]) : undefined;
      };
      rows.push(
        `| ${workload.name} | ${words} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${(two / one).toFixed(2)}x | ${describe(
          medianOf(ones, (m) => m.cpuPerMillionWords),
          1,
        )} / ${describe(
          medianOf(twos, (m) => m.cpuPerMillionWords),
          1,
        )} | ${describe(
          medianOf(ones, (m) => m.otherCores),
          2,
        )} / ${describe(
          medianOf(twos, (m) => m.otherCores),
          2,
        )} |`,
      );
    }
  } finally {
    await release();
  }
  const loadAfter = loadavg()[0] ?? 0;
  return [
    "## Cluster: 2 processes (one core each) vs 1 process (one core)",
    "",
    `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after. The processes first count a warm-up input (a fifth of the lines, untimed); then timed from the commit of the input (produced in one transaction beforehand, which the processes, reading read_committed, see at once) to every word in the committed output; intake capped per input partition above what two processes take, so batches stay even. Medians of ${rounds} rounds, one and two processes alternating. Job CPU: the job processes' CPU seconds per million words during the timed run (equal on both sides when a second process adds no work); rest of the machine: the cores' worth of CPU everything else used meanwhile (the servers, other work), which the two processes have to share the cores with.`,
    "",
    "| workload | words | 1 process (words/s, median) | 2 processes (words/s, median) | ratio | job CPU s per M words (1 / 2 processes) | rest of the machine busy, cores (1 / 2 processes) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  const rounds = process.argv.find((arg) => arg.startsWith("--rounds="))?.slice("--rounds=".length);
  const cpuProfileDir = process.argv
    .find((arg) => arg.startsWith("--cpu-prof="))
    ?.slice("--cpu-prof=".length);
  const section = await main({
    quick,
    trace: process.argv.includes("--trace"),
    ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
    ...(rounds === undefined ? {} : { rounds: Number(rounds) }),
    log: (line) => process.stderr.write(`${line}\n`),
    ...(only === undefined ? {} : { only: only.split(",") }),
  });
  process.stdout.write(section);
}
