/**
 * The Kafka source's byte batches: a topic of 100-byte records (1M by default, 2 partitions,
 * produced once and kept) read by two commits of Sluice, each in a git worktree and a process
 * of its own, one right after the other: the source alone (read and acknowledge until every
 * record arrived), then two jobs on a manual clock, `.map((r) => r.value.length)` summed per
 * batch and `.words().countByValue()`. Per commit: wall and CPU time, records per second of CPU,
 * and the garbage collector's work (scavenges of the young generation, a measure of what was
 * allocated, and GC pauses), with the machine's load average beside each.
 *
 *   node --import tsx bench/kafka-source-columns.ts [--revs=<before>,<after>] [--records=1000000]
 *       [--rounds=1]
 *
 * With `--rounds=N` the commits take turns N times and each measurement's run with the least
 * CPU time is reported (a shared machine's load only ever adds to it).
 * `--revs` defaults to the commit before the Kafka source handed its reads over as byte
 * batches, and HEAD. Needs Kafka on 127.0.0.1:9092 (scripts/services).
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key as string, value ?? "true"];
  }),
);
const numRecords = Number(args.get("records") ?? 1_000_000);
const brokers = [args.get("broker") ?? "127.0.0.1:9092"];
const topic = `sluice-bench-source-columns-${numRecords}`;
const VALUE_BYTES = 100;

/** One measured run: what it read, and what it cost. */
interface Measured {
  readonly name: string;
  readonly records: number;
  readonly ms: number;
  readonly cpuMs: number;
  readonly scavenges: number;
  readonly gcMs: number;
  readonly load: string;
}

if (args.has("child")) await child();
else await parent();

// ------------------------------------------------------------------------------------- parent

async function parent(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const git = (...gitArgs: string[]): string =>
    execFileSync("git", gitArgs, { cwd: root, encoding: "utf8" }).trim();
  const revs = (args.get("revs") ?? `${defaultBefore(git)},HEAD`)
    .split(",")
    .map((rev) => git("rev-parse", "--short", rev));
  await ensureTopic();
  const rounds = Number(args.get("rounds") ?? 1);
  const results = new Map<string, Measured[]>();
  // With several rounds the commits take turns, so a change of the machine's load hits both;
  // each run's least CPU time over the rounds is reported.
  for (const rev of Array.from({ length: rounds }, () => revs).flat()) {
    const tree = join(root, ".tmp", "kafka-source-columns", rev);
    if (!existsSync(tree)) {
      mkdirSync(join(root, ".tmp", "kafka-source-columns"), { recursive: true });
      git("worktree", "add", "--detach", tree, rev);
    }
    // The same measuring code in every tree; `sluice` and `@sluice/kafka` are that tree's.
    copyFileSync(fileURLToPath(import.meta.url), join(tree, "bench", "kafka-source-columns.ts"));
    process.stderr.write(`running ${rev} in ${tree}\n`);
    const runs = await runChild(tree);
    const kept = results.get(rev);
    results.set(
      rev,
      kept === undefined
        ? runs
        : runs.map((run) => {
            const earlier = kept.find((candidate) => candidate.name === run.name);
            return earlier !== undefined && earlier.cpuMs <= run.cpuMs ? earlier : run;
          }),
    );
  }
  console.log(table(revs, results));
  console.log(
    "\nWorktrees stay in .tmp/kafka-source-columns/ for reruns; remove them with git worktree remove.",
  );
}

/** The commit before the Kafka read path built byte batches. */
function defaultBefore(git: (...gitArgs: string[]) => string): string {
  const commits = git(
    "log",
    "--format=%H",
    "-S",
    "SourceRecordColumnsBuilder",
    "--",
    "connectors/kafka/src/read-path.ts",
  )
    .split("\n")
    .filter((line) => line !== "");
  const oldest = commits.at(-1);
  return oldest === undefined ? "HEAD" : `${oldest}^`;
}

/** Produces the topic's records unless an earlier run did. */
async function ensureTopic(): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const kafka = new Kafka({ clientId: "sluice-bench", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    const held = (await admin.fetchTopicOffsets(topic)).reduce(
      (sum, partition) => sum + Number(partition.high),
      0,
    );
    if (held >= numRecords) return;
    process.stderr.write(
      `producing ${numRecords - held} records of ${VALUE_BYTES} bytes to ${topic}\n`,
    );
    const producer = kafka.producer();
    await producer.connect();
    const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
    for (let first = held; first < numRecords; first += 10_000) {
      const messages = Array.from({ length: Math.min(10_000, numRecords - first) }, (_, i) => {
        let line = "";
        for (let w = first + i; line.length < VALUE_BYTES; w = (w * 31 + 7) % 1_000_003) {
          line += `${words[w % words.length]}${w % 97} `;
        }
        return { key: `k${(first + i) % 1000}`, value: line.slice(0, VALUE_BYTES) };
      });
      await producer.send({ topic, messages, acks: 1 });
    }
    await producer.disconnect();
  } finally {
    await admin.disconnect();
  }
}

function runChild(tree: string): Promise<Measured[]> {
  return new Promise((resolve, reject) => {
    const spawned = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "bench/kafka-source-columns.ts",
        "--child",
        `--records=${numRecords}`,
        `--broker=${brokers[0]}`,
      ],
      { cwd: tree, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    spawned.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    spawned.on("error", reject);
    spawned.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) reject(new Error(`the run exited with ${code}\n${out}`));
      else resolve(JSON.parse(last) as Measured[]);
    });
  });
}

function table(revs: readonly string[], results: ReadonlyMap<string, Measured[]>): string {
  const names = (results.get(revs[0] as string) ?? []).map((run) => run.name);
  const cell = (rev: string, name: string, show: (run: Measured) => string) => {
    const run = results.get(rev)?.find((candidate) => candidate.name === name);
    return run === undefined ? "" : show(run);
  };
  const lines = [
    `Kafka source: ${numRecords} records of ${VALUE_BYTES} bytes (keys of 2-4 bytes), 2 partitions, topic ${topic}; least CPU of ${args.get("rounds") ?? 1} round(s)`,
    "",
    `| | ${revs.join(" | ")} |`,
    `|---|${revs.map(() => "---:").join("|")}|`,
  ];
  for (const name of names) {
    const row = (label: string, show: (run: Measured) => string) =>
      `| ${name}: ${label} | ${revs.map((rev) => cell(rev, name, show)).join(" | ")} |`;
    lines.push(
      row("wall ms / CPU ms", (r) => `${r.ms.toFixed(0)} / ${r.cpuMs.toFixed(0)}`),
      row("records/s of CPU", (r) => ((r.records / r.cpuMs) * 1000).toFixed(0)),
      row("scavenges / GC ms", (r) => `${r.scavenges} / ${r.gcMs.toFixed(0)}`),
      row("load average", (r) => r.load),
    );
  }
  if (revs.length === 2) {
    const [before, after] = revs as [string, string];
    for (const name of names) {
      const a = results.get(before)?.find((r) => r.name === name);
      const b = results.get(after)?.find((r) => r.name === name);
      if (a !== undefined && b !== undefined) {
        lines.push(`| ${name}: CPU ${before} / ${after} | ${(a.cpuMs / b.cpuMs).toFixed(2)}x | |`);
      }
    }
  }
  return lines.join("\n");
}

// -------------------------------------------------------------------------------------- child

async function child(): Promise<void> {
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  const { pino } = await import("pino");
  const { StreamingContext } = await import("sluice");
  const { ConnectorRegistry } = await import("sluice/advanced");
  const { ManualClock } = await import("sluice/testing");
  const { kafkaSource } = await import("../connectors/kafka/src/index.js");
  let scavenges = 0;
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    }
  }).observe({ entryTypes: ["gc"] });
  const config = (group: string) => ({
    brokers,
    topics: [topic],
    groupId: `sluice-bench-columns-${group}-${process.pid}-${Date.now()}`,
    startFrom: "earliest",
    maxRecordsPerRead: 10_000,
    maxRecordsPerPartition: 5_000,
  });
  const measured: Measured[] = [];
  const measure = async (name: string, run: () => Promise<number>) => {
    const before = { scavenges, gcMs };
    const cpu = process.cpuUsage();
    const started = performance.now();
    const records = await run();
    const used = process.cpuUsage(cpu);
    measured.push({
      name,
      records,
      ms: performance.now() - started,
      cpuMs: (used.user + used.system) / 1000,
      scavenges: scavenges - before.scavenges,
      gcMs: gcMs - before.gcMs,
      load: loadavg()
        .map((value) => value.toFixed(2))
        .join(" "),
    });
  };

  const readLoop = async (): Promise<number> => {
    const registry = new ConnectorRegistry({ logger: pino({ level: "silent" }) }).use(kafkaSource);
    const source = registry.createSource("kafka", config("read")).connector;
    await source.connect(AbortSignal.timeout(60_000));
    const signal = AbortSignal.timeout(600_000);
    let rows = 0;
    let bytes = 0;
    while (rows < numRecords) {
      const result = await source.read(signal);
      // What a per-record step after the source does: every record made and read.
      for (const record of result.records) bytes += record.value.length;
      rows += result.records.length;
      await result.ack();
    }
    await source.close();
    await registry.dispose();
    if (bytes !== numRecords * VALUE_BYTES) throw new Error(`read ${bytes} bytes`);
    return rows;
  };

  const job = async (
    group: string,
    build: (ctx: InstanceType<typeof StreamingContext>, count: (n: number) => void) => void,
    expected: (n: number) => boolean,
  ): Promise<number> => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    let counted = 0;
    build(ctx, (n) => {
      counted += n;
    });
    const waiters = new Map<number, () => void>();
    ctx.addListener({ onBatchCompleted: (info) => waiters.get(info.batchTime)?.() });
    await ctx.start();
    let batches = 0;
    try {
      while (!expected(counted)) {
        batches++;
        const time = batches * 1000;
        const done = new Promise<void>((resolve) => waiters.set(time, resolve));
        clock.advance(1000);
        await done;
        // Lets the source read before the next batch is cut.
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (batches > 100_000)
          throw new Error(`${group}: only ${counted} after ${batches} batches`);
      }
    } finally {
      await ctx.stop();
    }
    return numRecords;
  };

  // The first pass warms the JIT and the broker's page cache; the second is reported.
  await readLoop();
  await measure("read loop, records read", readLoop);
  await measure("job .map(r => r.value.length)", () =>
    job(
      "map",
      (ctx, count) =>
        ctx
          .source(kafkaSource, config("map"))
          .map((record) => record.value.length)
          .foreachBatch((batch) => {
            for (const partition of batch.partitions) for (const n of partition) count(n);
          }),
      (n) => n >= numRecords * VALUE_BYTES,
    ),
  );
  await measure("job .words().countByValue()", () =>
    job(
      "words",
      (ctx, count) =>
        ctx
          .source(kafkaSource, config("words"))
          .words()
          .countByValue()
          .foreachBatch((batch) => {
            for (const partition of batch.partitions) for (const [, n] of partition) count(n);
          }),
      (n) => n >= numRecords * 10,
    ),
  );
  console.log(JSON.stringify(measured));
}
