/**
 * What a sliding window with an inverse holds: the lambda word count
 * `lines.flatMap(split).map((w) => [w, 1]).reduceByKeyAndWindow(add, { window: 30 batches,
 * slide: 1 batch, inverse: subtract, filter: count > 0 })` at `local[1]` on a manual clock, run
 * by two commits of Sluice side by side (each in a git worktree, each in its own process, one
 * after the other). Per commit: ms per batch (median, p90), GC pauses during the batches, heap
 * used and old space after each batch (as the job leaves them), the live heap after a full GC
 * every 10 batches, and the batches each stream of the job holds at the end. The windows' results
 * must agree (a digest of every window's counts). The machine's load average is reported before
and after each run; with `--rounds=N` the commits take turns N times.
 *
 *   node --import tsx bench/window-memory.ts [--revs=<before>,<after>] [--lines=100000]
 *       [--batches=40] [--window=30] [--rounds=1]
 *
 * `--revs` defaults to the commit before windows stopped making every stream above them
 * remember their width, and HEAD. Lines are the peers' (10 Zipf(1.2) words from a 100k
 * vocabulary, bench/peers/data.ts), 4 files used in turn.
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key as string, value ?? "true"];
  }),
);
const numLines = Number(args.get("lines") ?? 100_000);
const numBatches = Number(args.get("batches") ?? 40);
const windowBatches = Number(args.get("window") ?? 30);

/** What one commit's run reports (the child's last line of output, as JSON). */
interface RunReport {
  readonly rev: string;
  readonly sluiceFrom: string;
  readonly batchMs: number[];
  /** CPU time of the process (every thread, GC helpers included) per batch: less sensitive to load. */
  readonly cpuMs: number[];
  readonly gcMs: number[];
  readonly heapUsedMb: number[];
  readonly oldSpaceMb: number[];
  /** Heap used after a full GC, every 10 batches: [batch, MB]. */
  readonly liveMb: [number, number][];
  /** Batches held at the end, per stream of the job. */
  readonly held: Record<string, number>;
  readonly digest: string;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
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
  const { batchFile } = await import("./peers/data.js");
  const files = [0, 1, 2, 3].map((index) => batchFile(numLines, index));
  const rounds = Number(args.get("rounds") ?? 1);
  const reports: RunReport[] = [];
  // With several rounds the commits take turns, so a change of the machine's load hits both.
  for (const rev of Array.from({ length: rounds }, () => revs).flat()) {
    const tree = join(root, ".tmp", "window-memory", rev);
    if (!existsSync(tree)) {
      mkdirSync(join(root, ".tmp", "window-memory"), { recursive: true });
      git("worktree", "add", "--detach", tree, rev);
    }
    // The same measuring code in every tree; `sluice` resolves to that tree's sources.
    copyFileSync(fileURLToPath(import.meta.url), join(tree, "bench", "window-memory.ts"));
    process.stderr.write(`running ${rev} in ${tree}\n`);
    const report = await runChild(tree, rev, files);
    reports.push({ ...report, rev: rounds > 1 ? `${rev} #${reports.length + 1}` : rev });
  }
  console.log(table(reports));
  const digests = new Set(reports.map((report) => report.digest));
  console.log(
    digests.size === 1
      ? "\nThe windows' results agree."
      : "\nTHE WINDOWS' RESULTS DIFFER between the commits.",
  );
  console.log(
    `\nWorktrees stay in .tmp/window-memory/ for reruns; remove them with git worktree remove.`,
  );
}

/** The commit before `parentsToComputeAt` (windows' parents computed at every tick) came in. */
function defaultBefore(git: (...gitArgs: string[]) => string): string {
  const commits = git(
    "log",
    "--format=%H",
    "-S",
    "parentsToComputeAt",
    "--",
    "core/src/dstream/dstream-graph.ts",
  )
    .split("\n")
    .filter((line) => line !== "");
  const oldest = commits.at(-1);
  return oldest === undefined ? "HEAD" : `${oldest}^`;
}

function runChild(tree: string, rev: string, files: string[]): Promise<RunReport> {
  return new Promise((resolve, reject) => {
    const spawned = spawn(
      process.execPath,
      [
        "--expose-gc",
        "--max-old-space-size=12288",
        "--import",
        "tsx",
        "bench/window-memory.ts",
        "--child",
        `--rev=${rev}`,
        `--files=${files.join(",")}`,
        `--batches=${numBatches}`,
        `--window=${windowBatches}`,
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
      if (code !== 0) reject(new Error(`${rev}: the run exited with ${code}\n${out}`));
      else resolve(JSON.parse(last) as RunReport);
    });
  });
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function table(reports: RunReport[]): string {
  const at = (values: number[], batch: number) => (values[batch - 1] ?? Number.NaN).toFixed(0);
  const checkpoints = [1, 10, 20, 30, 40].filter((batch) => batch <= numBatches);
  const lines = [
    `Window memory: ${numLines} lines x 10 words per batch, window ${windowBatches} batches, slide 1, ${numBatches} batches, local[1], manual clock`,
    "",
    `| | ${reports.map((r) => r.rev).join(" | ")} |`,
    `|---|${reports.map(() => "---:").join("|")}|`,
    `| ms per batch, median | ${reports.map((r) => quantile(r.batchMs, 0.5).toFixed(0)).join(" | ")} |`,
    `| ms per batch, p90 | ${reports.map((r) => quantile(r.batchMs, 0.9).toFixed(0)).join(" | ")} |`,
    `| ms per batch, median of the last 10 | ${reports.map((r) => quantile(r.batchMs.slice(-10), 0.5).toFixed(0)).join(" | ")} |`,
    `| CPU ms per batch (all threads), median / p90 | ${reports.map((r) => `${quantile(r.cpuMs, 0.5).toFixed(0)} / ${quantile(r.cpuMs, 0.9).toFixed(0)}`).join(" | ")} |`,
    `| GC pauses, ms per batch (median / max) | ${reports.map((r) => `${quantile(r.gcMs, 0.5).toFixed(0)} / ${Math.max(...r.gcMs).toFixed(0)}`).join(" | ")} |`,
    ...checkpoints.map(
      (batch) =>
        `| heap used / old space after batch ${batch}, MB | ${reports.map((r) => `${at(r.heapUsedMb, batch)} / ${at(r.oldSpaceMb, batch)}`).join(" | ")} |`,
    ),
    `| live heap after a full GC (batch: MB) | ${reports.map((r) => r.liveMb.map(([batch, mb]) => `${batch}: ${mb.toFixed(0)}`).join(", ")).join(" | ")} |`,
    ...Object.keys(reports[0]?.held ?? {}).map(
      (stream) =>
        `| batches held at the end: ${stream} | ${reports.map((r) => String(r.held[stream])).join(" | ")} |`,
    ),
    `| load average (1 min) before / after | ${reports.map((r) => `${r.loadBefore[0]?.toFixed(2)} / ${r.loadAfter[0]?.toFixed(2)}`).join(" | ")} |`,
    `| sluice loaded from | ${reports.map((r) => r.sluiceFrom).join(" | ")} |`,
  ];
  const perBatch = [
    "",
    `| batch | ${reports.map((r) => `${r.rev} ms | ${r.rev} heap MB | ${r.rev} old MB`).join(" | ")} |`,
    `|---:|${reports.map(() => "---:|---:|---:").join("|")}|`,
    ...Array.from(
      { length: numBatches },
      (_, i) =>
        `| ${i + 1} | ${reports.map((r) => `${(r.batchMs[i] ?? Number.NaN).toFixed(0)} | ${at(r.heapUsedMb, i + 1)} | ${at(r.oldSpaceMb, i + 1)}`).join(" | ")} |`,
    ),
  ];
  return [...lines, ...perBatch].join("\n");
}

// -------------------------------------------------------------------------------------- child

async function child(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run the child with --expose-gc");
  const { StreamingContext } = await import("sluice");
  const { ManualClock, cachedBatchTimes } = await import("sluice/testing");
  const { PerformanceObserver } = await import("node:perf_hooks");
  const files = (args.get("files") ?? "").split(",").map((path) => {
    const lines = readFileSync(path, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  });
  const loadBefore = loadavg();

  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, master: "local[1]" });
  const queue = Array.from({ length: numBatches }, (_, i) => files[i % files.length] as string[]);
  const lines = ctx.queueStream(queue);
  const words = lines.flatMap((line) => line.split(" "));
  const pairs = words.map((word): [string, number] => [word, 1]);
  const counts = pairs.reduceByKeyAndWindow((a, b) => a + b, {
    window: windowBatches * 1000,
    inverse: (a, b) => a - b,
    filter: ([, count]) => count > 0,
  });
  let digest = 0;
  counts.foreachBatch((batch) => {
    // Order-independent: the sum over keys of (key's hash × count).
    for (const partition of batch.partitions) {
      for (const [word, count] of partition) digest = (digest + hashOf(word) * count) % 2 ** 48;
    }
  });

  let gcInBatch = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcInBatch += entry.duration;
  });
  observer.observe({ entryTypes: ["gc"] });

  const batchMs: number[] = [];
  const cpuMs: number[] = [];
  const gcMs: number[] = [];
  const heapUsedMb: number[] = [];
  const oldSpaceMb: number[] = [];
  const liveMb: [number, number][] = [];
  const mb = (bytes: number) => bytes / 2 ** 20;
  const oldSpace = () =>
    getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ??
    0;
  await ctx.start();
  for (let batch = 1; batch <= numBatches; batch++) {
    gcInBatch = 0;
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    clock.advance(1000);
    await ctx.scope.awaitProcessed(batch * 1000);
    batchMs.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    // GC entries are delivered asynchronously: let them arrive before reading the sum.
    await new Promise((resolve) => setImmediate(resolve));
    gcMs.push(gcInBatch);
    heapUsedMb.push(mb(process.memoryUsage().heapUsed));
    oldSpaceMb.push(mb(oldSpace()));
    const error = ctx.scope.firstError();
    if (error !== undefined) throw error;
    if (batch % 10 === 0) {
      gc();
      liveMb.push([batch, mb(process.memoryUsage().heapUsed)]);
    }
    process.stderr.write(
      `  ${args.get("rev")} batch ${batch}: ${batchMs.at(-1)?.toFixed(0)} ms, heap ${heapUsedMb.at(-1)?.toFixed(0)} MB\n`,
    );
  }
  observer.disconnect();
  const held = {
    lines: cachedBatchTimes(lines).length,
    "words (flatMap)": cachedBatchTimes(words).length,
    "pairs (map)": cachedBatchTimes(pairs).length,
    "per-batch reductions": cachedBatchTimes(counts.dependencies[0] as typeof lines).length,
    window: cachedBatchTimes(counts).length,
  };
  await ctx.stop();
  const report: RunReport = {
    rev: args.get("rev") ?? "?",
    sluiceFrom: import.meta.resolve("sluice"),
    batchMs,
    cpuMs,
    gcMs,
    heapUsedMb,
    oldSpaceMb,
    liveMb,
    held,
    digest: digest.toString(16),
    loadBefore,
    loadAfter: loadavg(),
  };
  console.log(JSON.stringify(report));
}

/** FNV-1a of a string's UTF-16 code units, 32 bits. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
