/**
 * Cluster benchmark (`node --import tsx bench/cluster/run.ts [--quick] [--only=C1,C2,C3]`): the same Kafka job run
 * by one process pinned to one core (`taskset -c 0`) and by two processes of one cluster, each
 * pinned to its own core (`taskset -c 0`, `taskset -c 1`). Workloads: C1, a CPU-bound stateless
 * step (sha256 rounds per word) before a per-batch count; C2, the per-batch word count
 * (reduceByKey per batch, exactly-once into Kafka); C3, the keyed job of test/cluster (a running
 * word count with updateStateByKey, a sliding window and per-batch counts, into Cassandra),
 * whose pairs go through the repartition topic to the keyed tasks. The processes join first;
 * then the whole input is produced and the run is timed from its first record until every word
 * is in the committed output (C3: in the running totals in Cassandra).
 * Reports words per second and the ratio two/one side by side (a ratio, never asserted), with
 * the load average. Needs Kafka on 127.0.0.1:9092 (and Cassandra on 127.0.0.1:9042 for C3).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
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
  ) {
    this.child = spawn(
      "taskset",
      ["-c", String(core), process.execPath, "--conditions=sluice-source", "--import", "tsx", job],
      {
        cwd: REPO,
        env: {
          ...process.env,
          [variable]: JSON.stringify(settings),
          SLUICE_LOG_LEVEL: "error",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stdout += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once("close", () => resolve()));
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
      cassandra: CONTACT_POINTS,
      keyspace,
    };
    const processes = cores.map(
      (core) => new PinnedProcess(core, settings, KEYED_JOB, KEYED_SETTINGS_VARIABLE),
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
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: 2 }] });
  const settings: ClusterJobSettings = {
    brokers: BROKERS,
    group: `bench-cluster-${id}`,
    input,
    output,
    batchIntervalMs: 500,
    spinPerWord: workload.spinPerWord,
    transactionTimeoutMs: 60_000,
  };
  const committed = new CommittedCounts(BROKERS, output);
  await committed.start();
  return {
    processes: cores.map((core) => new PinnedProcess(core, settings)),
    reader: { words: async () => committed.words, stop: () => committed.stop() },
    cleanUp: () => admin.deleteTopics({ topics: [input, output] }).catch(() => undefined),
  };
}

async function measure(workload: Workload, cores: readonly number[]): Promise<Measurement> {
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const id = randomUUID().slice(0, 8);
  const input = `bench-cluster-in-${id}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: input, numPartitions: PARTITIONS }],
  });
  const { processes, reader, cleanUp } = await launch(workload, cores, id, input, admin);
  const producer = kafka.producer();
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
    let words = 0;
    const messages = Array.from({ length: workload.lines }, (_, index) => {
      const count = 1 + (index % 5);
      words += count;
      return {
        key: `line-${index}`,
        value: Array.from({ length: count }, (_, w) => WORDS[(index + w) % WORDS.length]).join(" "),
      };
    });
    // Timed from the first record produced: the processes read while the rest is produced.
    const started = performance.now();
    for (let start = 0; start < messages.length; start += 10_000) {
      await producer.send({ topic: input, messages: messages.slice(start, start + 10_000) });
    }
    await waitFor(async () => (await reader.words()) >= words, "complete output", 600_000);
    const seconds = (performance.now() - started) / 1000;
    const counted = await reader.words();
    if (counted !== words) throw new Error(`counted ${counted} words, produced ${words}`);
    return {
      workload: workload.name,
      processes: cores.length,
      words,
      seconds,
      wordsPerSecond: words / seconds,
    };
  } finally {
    for (const p of processes) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
    await producer.disconnect();
    await reader.stop();
    await cleanUp();
    await admin.disconnect();
  }
}

/** Runs every workload with one process on one core and two processes on two cores. */
export async function main(options: {
  quick: boolean;
  log: (line: string) => void;
  /** Workload names to run by their prefix (C1, C2, C3); all when absent. */
  only?: readonly string[];
}): Promise<string> {
  const scale = options.quick ? 1 : 4;
  const workloads: Workload[] = [
    {
      name: "C1 CPU-bound stateless (sha256 x20 per word)",
      lines: 20_000 * scale,
      spinPerWord: 20,
    },
    { name: "C2 per-batch word count", lines: 100_000 * scale, spinPerWord: 0 },
    {
      name: "C3 keyed: running totals, window, per-batch counts into Cassandra",
      lines: 20_000 * scale,
      spinPerWord: 0,
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
    for (const workload of workloads) {
      options.log(`${workload.name}: 1 process on core 0...`);
      const one = await measure(workload, [0]);
      options.log(`${workload.name}: 2 processes on cores 0 and 1...`);
      const two = await measure(workload, [0, 1]);
      rows.push(
        `| ${workload.name} | ${one.words} | ${one.wordsPerSecond.toFixed(0)} | ${two.wordsPerSecond.toFixed(0)} | ${(two.wordsPerSecond / one.wordsPerSecond).toFixed(2)}x |`,
      );
    }
  } finally {
    await release();
  }
  const loadAfter = loadavg()[0] ?? 0;
  return [
    "## Cluster: 2 processes (one core each) vs 1 process (one core)",
    "",
    `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after. Timed from the first input record produced (the whole input produced in chunks of 10 000) to every word in the committed output.`,
    "",
    "| workload | words | 1 process (words/s) | 2 processes (words/s) | ratio |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  const section = await main({
    quick,
    log: (line) => process.stderr.write(`${line}\n`),
    ...(only === undefined ? {} : { only: only.split(",") }),
  });
  process.stdout.write(section);
}
