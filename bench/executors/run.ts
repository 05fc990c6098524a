/**
 * Executors benchmark (`npm run bench`, or
 * `node --import tsx bench/executors/run.ts [--quick] [--workloads=E1,E2]`):
 * E1, a CPU-bound lambda pipeline under local[1] and local[2] (throughput and speed-up);
 * E2, a named aggregation with a shuffle (reduceByKey("sum")) under both, with where the
 * executors' time goes (the job's functions, shuffle, aggregation, transfer). Batches are driven
 * by a manual clock, one after the other; each run starts its executors before timing.
 * Prints Markdown and writes bench/executors/results/<time>.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BatchExecutionInfo, createJobContext } from "sluice";
import { ExecutorPool } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { outputs, queues } from "./pipelines.js";

const MODULE = new URL("./pipelines.ts", import.meta.url);

interface RunResult {
  readonly master: string;
  readonly recordsPerSecond: number;
  readonly msPerBatch: number;
  readonly checksum: number;
  readonly execution: Omit<BatchExecutionInfo, "taskTimeByExecutor" | "executors"> | undefined;
}

interface Workload {
  readonly exportName: string;
  readonly args: (name: string) => unknown;
  readonly batches: string[][];
}

/** Runs `warmup + measured` batches of a workload under `master`; times the measured ones. */
async function runWorkload(
  workload: Workload,
  master: string,
  pool: ExecutorPool | undefined,
  warmup: number,
  run: number,
): Promise<RunResult> {
  const name = `${workload.exportName}-${master}-${run}`;
  queues.set(
    name,
    workload.batches.map((batch) => batch),
  );
  const clock = new ManualClock(0);
  const ctx = await createJobContext(
    { module: MODULE, exportName: workload.exportName, args: workload.args(name) },
    {
      batchInterval: 1000,
      clock,
      master,
      defaultParallelism: 4,
      ...(pool === undefined ? {} : { executorPool: pool }),
    },
  );
  const infos = new Map<number, BatchExecutionInfo | undefined>();
  const waiters = new Map<number, () => void>();
  ctx.addListener({
    onBatchCompleted: (info) => {
      infos.set(info.batchTime, info.execution);
      waiters.get(info.batchTime)?.();
    },
  });
  await ctx.start();
  let measuredMs = 0;
  let records = 0;
  const phases = {
    tasks: 0,
    failedTaskAttempts: 0,
    tasksOnKeptPartitions: 0,
    shuffleBytes: 0,
    functionsMs: 0,
    shuffleMs: 0,
    aggregateMs: 0,
    transferMs: 0,
  };
  try {
    for (let i = 0; i < workload.batches.length; i++) {
      const time = (i + 1) * 1000;
      const done = new Promise<void>((resolve) => waiters.set(time, resolve));
      const started = performance.now();
      clock.advance(1000);
      await done;
      if (i < warmup) continue;
      measuredMs += performance.now() - started;
      records += (workload.batches[i] as string[]).length;
      const execution = infos.get(time);
      if (execution !== undefined) {
        for (const key of Object.keys(phases) as (keyof typeof phases)[])
          phases[key] += execution[key];
      }
    }
  } finally {
    await ctx.stop();
  }
  const measured = workload.batches.length - warmup;
  const checksum = (outputs.get(name) ?? []).reduce((a, b) => a + b, 0);
  queues.delete(name);
  outputs.delete(name);
  return {
    master,
    recordsPerSecond: records / (measuredMs / 1000),
    msPerBatch: measuredMs / measured,
    checksum,
    execution: master === "local[1]" ? undefined : phases,
  };
}

function makeLines(batches: number, perBatch: number, users: number, seed: number): string[][] {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  return Array.from({ length: batches }, () =>
    Array.from({ length: perBatch }, () => `user${next() % users},${(next() % 10_000) / 100}`),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs both workloads and returns the Markdown report. */
export async function benchExecutors(options: {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Which workloads to run (default both): `E1`, `E2`. */
  readonly only?: ReadonlyArray<string>;
}): Promise<string> {
  const { quick, log } = options;
  const rounds = quick ? 2 : 5;
  const warmup = 2;
  const loadBefore = loadavg()[0] ?? 0;
  const workloads: { title: string; workload: Workload }[] = [
    {
      title: 'E1 CPU-bound lambdas (map: parse + score, filter, reduceByKey("sum"))',
      workload: {
        exportName: "cpuBound",
        args: (name) => ({ name, rounds: 1500 }),
        batches: makeLines(warmup + (quick ? 3 : 4), quick ? 4_000 : 8_000, 100, 7),
      },
    },
    {
      title: 'E2 named aggregation with a shuffle (map: parse, reduceByKey("sum"), 10k keys)',
      workload: {
        exportName: "namedAggregation",
        args: (name) => name,
        batches: makeLines(warmup + (quick ? 3 : 4), quick ? 100_000 : 200_000, 10_000, 11),
      },
    },
  ];
  const lines = [
    "## Executors (local[N])",
    "",
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}; load average before: ${loadBefore.toFixed(2)} (other processes share this machine; with autogroup scheduling a process's threads share one CPU share, so a load near or above the core count takes the speed-up away).`,
    `Each run: ${warmup} warm-up batches, then timed batches one after the other; ${rounds} runs per master, masters alternating; local[2] runs share one pool of 2 executor threads (started untimed), as local[1] runs share the main thread; defaultParallelism 4 (4 tasks per stage). The speed-up compares the best run of each master (the usual way to see through other jobs on a shared machine) and, in brackets, the medians.`,
    "",
  ];
  // One pool for every local[2] run, as the driver's main thread serves every local[1] run: both
  // sides stay warm (compiled code) from run to run. Its threads start before any timing.
  const executors = new ExecutorPool({ threads: 2 });
  const selected = workloads.filter(
    ({ title }) => options.only === undefined || options.only.some((id) => title.startsWith(id)),
  );
  for (const { title, workload } of selected) {
    const results: Record<string, RunResult[]> = { "local[1]": [], "local[2]": [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ["local[1]", "local[2]"] : ["local[2]", "local[1]"];
      for (const master of order) {
        const pool = master === "local[1]" ? undefined : executors;
        const result = await runWorkload(workload, master, pool, warmup, round);
        (results[master] as RunResult[]).push(result);
        log(
          `${workload.exportName} ${master}: ${Math.round(result.recordsPerSecond)} records/s (${result.msPerBatch.toFixed(1)} ms/batch)`,
        );
      }
    }
    const one = results["local[1]"] as RunResult[];
    const two = results["local[2]"] as RunResult[];
    const best1 = Math.max(...one.map((r) => r.recordsPerSecond));
    const best2 = Math.max(...two.map((r) => r.recordsPerSecond));
    const median1 = median(one.map((r) => r.recordsPerSecond));
    const median2 = median(two.map((r) => r.recordsPerSecond));
    const checksums = new Set([...one, ...two].map((r) => r.checksum));
    lines.push(`### ${title}`, "");
    lines.push(
      "| master | records/s (best) | records/s (median) | ms per batch (median) | runs (records/s) |",
    );
    lines.push("| --- | ---: | ---: | ---: | --- |");
    for (const [master, runs] of [
      ["local[1]", one],
      ["local[2]", two],
    ] as const) {
      lines.push(
        `| ${master} | ${Math.round(Math.max(...runs.map((r) => r.recordsPerSecond)))} | ${Math.round(median(runs.map((r) => r.recordsPerSecond)))} | ${median(runs.map((r) => r.msPerBatch)).toFixed(1)} | ${runs.map((r) => Math.round(r.recordsPerSecond)).join(", ")} |`,
      );
    }
    lines.push(
      "",
      `Speed-up local[2] / local[1]: **${(best2 / best1).toFixed(2)}x** (medians: ${(median2 / median1).toFixed(2)}x); outputs ${checksums.size === 1 ? "identical across masters" : `DIFFER across masters (${[...checksums].join(", ")})`}.`,
      "",
    );
    const last = [...two].sort((a, b) => b.recordsPerSecond - a.recordsPerSecond)[0]?.execution;
    if (last !== undefined) {
      const total = last.functionsMs + last.shuffleMs + last.aggregateMs + last.transferMs;
      const share = (ms: number) => `${ms.toFixed(0)} ms (${((100 * ms) / total).toFixed(0)}%)`;
      lines.push(
        "Where local[2]'s task time went (its best run, timed batches, summed over tasks):",
        "",
        "| job's functions (parse, score) | shuffle (place keys, encode, decode) | aggregate | transfer (copying records between threads, messaging) | tasks | shuffle bytes |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        `| ${share(last.functionsMs)} | ${share(last.shuffleMs)} | ${share(last.aggregateMs)} | ${share(last.transferMs)} | ${last.tasks} | ${(last.shuffleBytes / 1e6).toFixed(1)} MB |`,
        "",
      );
    }
  }
  await executors.close();
  lines.push(`Load average after: ${(loadavg()[0] ?? 0).toFixed(2)}.`, "");
  return lines.join("\n");
}

/** Runs the benchmark, prints it and writes it under bench/executors/results/. */
export async function main(options: {
  quick: boolean;
  log: (line: string) => void;
  only?: ReadonlyArray<string>;
}): Promise<void> {
  const markdown = await benchExecutors(options);
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(dir, `${stamp}.md`), markdown);
  process.stdout.write(markdown);
}

if (import.meta.url === new URL(process.argv[1] ?? "", "file://").href) {
  const only = process.argv.find((arg) => arg.startsWith("--workloads="));
  await main({
    ...(only === undefined ? {} : { only: only.slice("--workloads=".length).split(",") }),
    quick: process.argv.includes("--quick"),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}
