/**
 * `npm run bench`: B3 (reduceByKey matrix), B4 (shuffle), B5 (sliding windows), the
 * small-batch threshold and the end-to-end word count, each contender side by side in this
 * process (the Rust limit in a child process per round). Writes bench/results/<time>.json and
 * .md and prints the Markdown.
 *
 * Options: --only=b3,b4,b5,threshold,pairs,wordcount,executors,observability,small-batches
 * --rows=N (B3 records per batch)
 * Probes of one change each, run only when named in --only (each also runs on its own; its file
 * says how): lambda-chain (fused per-record chains vs a Node loop), kernels-word-count (fused
 * parse + count, async partitions), window-memory (two commits of a window job in worktrees),
 * file-source-lines (the file source's byte batches), cluster (bench/cluster: processes pinned
 * to cores), kafka-source-columns (the Kafka source's byte batches: two commits in worktrees).
 * --rounds=N  --quick
 *
 * `--peers` runs the word count against its peers instead (Spark Streaming, a plain Node loop,
 * hand-written Rust: bench/peers/run.ts); it exits 1 when the contenders' digests disagree.
 * `--no-spark` leaves Spark out.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeKernels } from "sluice/advanced";
import { requireNativeBinding } from "../core/test/kernels/native-binding.js";
import { benchReduceByKey } from "./b3-reduce-by-key.js";
import { benchShuffle } from "./b4-shuffle.js";
import { benchWindows } from "./b5-windows.js";
import { benchPairsThreshold } from "./pairs-threshold.js";
import { type BenchResults, toMarkdown } from "./report.js";
import { buildRustLimit } from "./rust-limit.js";
import { benchThreshold, crossover } from "./threshold.js";
import { benchWordCount } from "./word-count.js";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key as string, value ?? "true"];
  }),
);
const quick = args.has("quick");
const only = new Set((args.get("only") ?? "b3,b4,b5,threshold,pairs,wordcount").split(","));
const rounds = Number(args.get("rounds") ?? (quick ? 2 : 5));
const rows = Number(args.get("rows") ?? (quick ? 200_000 : 1_000_000));
const log = (line: string) => process.stderr.write(`${line}\n`);

if (args.has("peers")) {
  const { main } = await import("./peers/run.js");
  const { agree } = await main({
    quick,
    spark: !args.has("no-spark"),
    log,
    ...(args.has("rounds") ? { rounds: Number(args.get("rounds")) } : {}),
  });
  process.exit(agree ? 0 : 1);
}

const started = Date.now();
const tmp = mkdtempSync(join(tmpdir(), "sluice-bench-"));
// Every batch goes to the addon here: the small-batch threshold is what is being measured.
const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
if (["b3", "b4", "b5"].some((part) => only.has(part))) {
  log("building the Rust limit contender (cargo build --release --example bench_limit)...");
  buildRustLimit();
}

const settings: Record<string, number | string> = { rows, rounds };
const results: BenchResults = {
  startedAt: new Date(started).toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
  settings,
  load: { start: loadavg()[0] ?? 0, end: 0 },
  elapsedSeconds: 0,
};
const mutable = results as { -readonly [K in keyof BenchResults]: BenchResults[K] };
try {
  if (only.has("threshold")) {
    const points = benchThreshold({
      native,
      sizes: [16, 64, 256, 1024, 4096, 16384],
      rowsPerSample: quick ? 50_000 : 200_000,
      rounds,
    });
    mutable.threshold = { points, crossover: crossover(points) };
    log(`threshold: native at least as fast from ${mutable.threshold.crossover} rows`);
  }
  if (only.has("b3")) {
    mutable.b3 = benchReduceByKey({
      native,
      rows,
      rounds,
      distinctCounts: quick ? [1000, 100_000] : [1000, 100_000, 1_000_000],
      tmp,
      log,
    });
  }
  if (only.has("b4")) {
    settings.shuffleRows = quick ? 1_000_000 : 4_000_000;
    mutable.b4 = benchShuffle({ native, rows: settings.shuffleRows, rounds, tmp, log });
  }
  if (only.has("b5")) {
    settings.windowRate = quick ? 20_000 : 50_000;
    settings.windowMeasuredRows = quick ? 100_000 : 300_000;
    mutable.b5 = benchWindows({
      native,
      ratePerSecond: settings.windowRate,
      measuredRows: settings.windowMeasuredRows,
      rounds: Math.min(rounds, 3),
      tmp,
      log,
    });
  }
  if (only.has("pairs")) {
    mutable.pairsThreshold = benchPairsThreshold({
      native: new NativeKernels(requireNativeBinding()),
      sizes: [64, 256, 1024, 2048, 4096, 8192, 16384],
      rowsPerSample: quick ? 50_000 : 200_000,
      rounds,
    });
  }
  if (only.has("wordcount")) {
    settings.wordCountRecords = quick ? 10_000 : 50_000;
    mutable.wordCount = await benchWordCount({
      native,
      records: settings.wordCountRecords,
      rounds,
      log,
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
mutable.elapsedSeconds = (Date.now() - started) / 1000;
results.load.end = loadavg()[0] ?? 0;
const markdown = toMarkdown(results);
const dir = fileURLToPath(new URL("./results/", import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, "-");
writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, `${stamp}.md`), markdown);
process.stdout.write(markdown);
// Executors (local[1] vs local[2]): bench/executors/run.ts, run by default and by --only=executors.
if (!args.has("only") || only.has("executors"))
  await (await import("./executors/run.js")).main({ quick, log });
// The web UI and /metrics while a job runs (p99 latency): bench/observability/run.ts, run by
// default and by --only=observability.
if (!args.has("only") || only.has("observability")) {
  const section = await (await import("./observability/run.js")).main({ quick, log });
  process.stdout.write(`\n${section}\n`);
}
// B6, small batch intervals on the real clock (10–100 ms): bench/small-batches/run.ts, run by
// default and by --only=small-batches; a full run writes its table into docs/BENCHMARKS.md.
if (!args.has("only") || only.has("small-batches")) {
  const section = await (await import("./small-batches/run.js")).main({ quick, log });
  process.stdout.write(`\n${section}\n`);
}
// Probes of one change each, in a process of their own, only when named in --only.
const PROBES: Readonly<Record<string, readonly string[]>> = {
  "lambda-chain": ["--import", "tsx", "bench/lambda-chain.ts", ...(quick ? ["--lines=20000"] : [])],
  "kernels-word-count": ["--import", "tsx", "bench/kernels-word-count.ts"],
  "window-memory": [
    "--import",
    "tsx",
    "bench/window-memory.ts",
    ...(quick ? ["--batches=12"] : []),
  ],
  "file-source-lines": [
    "--conditions=sluice-source",
    "--import",
    "tsx",
    "bench/file-source-lines.ts",
    ...(quick ? ["--mb=10"] : []),
  ],
  cluster: ["--import", "tsx", "bench/cluster/run.ts", ...(quick ? ["--quick"] : [])],
  "kafka-source-columns": [
    "--import",
    "tsx",
    "bench/kafka-source-columns.ts",
    ...(quick ? ["--records=100000"] : []),
  ],
};
for (const [name, probe] of Object.entries(PROBES)) {
  if (!(args.has("only") && only.has(name))) continue;
  log(`running the ${name} probe: node ${probe.join(" ")}`);
  const run = spawnSync(process.execPath, probe, {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: "inherit",
  });
  if (run.status !== 0) {
    log(`the ${name} probe failed (exit ${run.status ?? run.signal})`);
    process.exitCode = 1;
  }
}
