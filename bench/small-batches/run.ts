/**
 * B6, the batch-interval floor, on the real clock (`npm run bench`, `--only=small-batches`, or
 * `node --import tsx bench/small-batches/run.ts [--quick] [--runs=columnar@local[1]@10,...]
 * [--warmup=ms] [--measure=ms] [--rate=lines/s] [--cpu-prof=dir] [--no-docs]`).
 *
 * A generator process (`generator.ts`) sends 100-byte lines over TCP at a steady rate; a job
 * process (`runner.ts`) counts their words at one batch interval for a warm-up and a measured
 * span; each run has fresh processes. Per run: records/s processed, processing time p50/p99/max,
 * scheduling delay p50/p99 and its trend, the fixed cost per batch. A full run (not `--quick`,
 * default runs) writes its table between the small-batches markers of docs/BENCHMARKS.md.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { coreCost } from "./core-cost.js";
import type { RunnerArgs, RunnerOutput } from "./runner.js";

/** The runner's output line starts with this (the same constant as in `runner.ts`, which
 * runs when imported). */
const RESULT_MARK = "small-batches-result ";

import { figures, leastSquares, type RunFigures, STABLE_SLOPE_MS_PER_S } from "./stats.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "../..");

/** One configuration: the job's form, its master and its batch interval. */
export interface RunSpec {
  readonly form: RunnerArgs["form"];
  readonly master: string;
  readonly intervalMs: number;
  /** Lines per second offered, when not the benchmark's rate. */
  readonly rate?: number;
}

/** What the generator prints when it ends. */
interface GeneratorStats {
  readonly sent: number;
  readonly ms: number;
  readonly maxBehind: number;
  readonly timeline: [number, number][];
}

/** Lines per second the generator sent between two wall-clock times (its 100 ms samples). */
function sentRate(stats: GeneratorStats | undefined, from: number, to: number): number {
  if (stats === undefined) return 0;
  const inside = stats.timeline.filter(([time]) => time >= from && time <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (first === undefined || last === undefined || last[0] === first[0]) return 0;
  return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
}

/** A run's outcome. */
export interface RunResult extends RunSpec {
  readonly figures?: RunFigures;
  readonly offeredPerSecond: number;
  readonly generatorMaxBehind: number;
  readonly wordsAgree: boolean;
  /** Stable (see `RunFigures.stable`) and processing at least 95% of the rate asked of the generator. */
  readonly stable: boolean;
  /** CPU of the job's process over the measured span, % of one core. */
  readonly cpuPercent: number;
  /** The same per batch interval, ms. */
  readonly cpuMsPerBatch: number;
  /** The share of that CPU spent in the kernel (system time), 0–1. */
  readonly systemShare: number;
  /** Share of batches after which flow control held the source paused (its rate or queue). */
  readonly pausedShare: number;
  /** Flow control's rate limit after the last batch, records/s (undefined: none). */
  readonly rateLimitAtEnd: number | undefined;
  readonly failure?: string;
}

const FULL_RUNS: RunSpec[] = [
  ...[10, 20, 50, 100].map((intervalMs) => ({
    form: "columnar" as const,
    master: "local[1]",
    intervalMs,
  })),
  { form: "lambda", master: "local[1]", intervalMs: 10 },
  { form: "columnar", master: "local[2]", intervalMs: 10 },
  // Nearly empty batches: what a batch costs by itself.
  { form: "columnar", master: "local[1]", intervalMs: 10, rate: 1000 },
];
const QUICK_RUNS: RunSpec[] = [
  { form: "columnar", master: "local[1]", intervalMs: 10 },
  { form: "columnar", master: "local[1]", intervalMs: 100 },
  { form: "lambda", master: "local[1]", intervalMs: 10 },
  { form: "columnar", master: "local[1]", intervalMs: 10, rate: 1000 },
];

function parseRuns(text: string): RunSpec[] {
  return text.split(",").map((item) => {
    const [form, master, interval, rate] = item.split("@");
    if ((form !== "columnar" && form !== "lambda") || master === undefined) {
      throw new Error(`--runs: expected form@master@interval, got ${item}`);
    }
    return {
      form,
      master,
      intervalMs: Number(interval),
      ...(rate === undefined ? {} : { rate: Number(rate) }),
    };
  });
}

/** Spawns a tsx script; resolves with its stdout lines as they come (via `onLine`). */
function start(
  script: string,
  args: string[],
  nodeArgs: string[],
  onLine: (line: string) => void,
): { done: Promise<number>; kill: () => void } {
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--import", "tsx", join(HERE, script), ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines = createInterface({ input: child.stdout });
  lines.on("line", onLine);
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  const done = new Promise<number>((resolve) => {
    child.on("close", (code) => {
      if (code !== 0 && errors !== "") process.stderr.write(errors);
      resolve(code ?? 1);
    });
  });
  return { done, kill: () => child.kill("SIGTERM") };
}

async function runOne(
  spec: RunSpec,
  options: { warmupMs: number; measureMs: number; rate: number; cpuProf?: string },
): Promise<RunResult> {
  let port: number | undefined;
  let generatorStats: GeneratorStats | undefined;
  let portReady: () => void = () => {};
  const listening = new Promise<void>((resolve) => {
    portReady = resolve;
  });
  const generator = start("generator.ts", [String(spec.rate ?? options.rate)], [], (line) => {
    const message = JSON.parse(line) as {
      port?: number;
      sent?: number;
      ms?: number;
      maxBehind?: number;
    };
    if (message.port !== undefined) {
      port = message.port;
      portReady();
    } else generatorStats = message as GeneratorStats;
  });
  await Promise.race([listening, generator.done]);
  if (port === undefined) throw new Error("the generator did not start");
  let output: RunnerOutput | undefined;
  const runnerArgs: RunnerArgs = {
    form: spec.form,
    master: spec.master,
    intervalMs: spec.intervalMs,
    port,
    warmupMs: options.warmupMs,
    measureMs: options.measureMs,
  };
  const nodeArgs =
    options.cpuProf === undefined
      ? []
      : ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${options.cpuProf}`];
  const runner = start("runner.ts", [JSON.stringify(runnerArgs)], nodeArgs, (line) => {
    if (line.startsWith(RESULT_MARK)) {
      output = JSON.parse(line.slice(RESULT_MARK.length)) as RunnerOutput;
    }
  });
  const code = await runner.done;
  generator.kill();
  await generator.done;
  // Over the whole connection; a measured run replaces it with the rate in its span.
  const offeredPerSecond =
    generatorStats === undefined || generatorStats.ms === 0
      ? 0
      : (generatorStats.sent * 1000) / generatorStats.ms;
  const base = {
    ...spec,
    offeredPerSecond,
    generatorMaxBehind: generatorStats?.maxBehind ?? 0,
  };
  if (output === undefined) {
    return {
      ...base,
      wordsAgree: false,
      stable: false,
      cpuPercent: 0,
      cpuMsPerBatch: 0,
      systemShare: 0,
      pausedShare: 0,
      rateLimitAtEnd: undefined,
      failure: `runner exited ${code}`,
    };
  }
  const { measureStart, measureEnd } = output;
  if (output.receiverEvents.length > 0) {
    process.stderr.write(
      `  the source reported: ${output.receiverEvents.slice(0, 5).join("; ")}\n`,
    );
  }
  const measured = output.batches.filter(
    (batch) => batch.time > measureStart && batch.time <= measureEnd,
  );
  const measuredFigures = figures(measured, spec.intervalMs);
  return {
    ...base,
    offeredPerSecond: sentRate(generatorStats, measureStart, measureEnd),
    cpuPercent: (100 * output.cpuMs) / output.measuredWallMs,
    cpuMsPerBatch: (output.cpuMs * spec.intervalMs) / output.measuredWallMs,
    systemShare: output.cpuMs === 0 ? 0 : output.systemMs / output.cpuMs,
    pausedShare:
      output.batches.length === 0
        ? 0
        : Object.values(output.pausedBatches).reduce((a, b) => a + b, 0) / output.batches.length,
    rateLimitAtEnd: (output.lastInputRate as { rateLimit?: number } | undefined)?.rateLimit,
    figures: measuredFigures,
    stable:
      measuredFigures.stable &&
      measuredFigures.recordsPerSecond >= 0.95 * (spec.rate ?? options.rate),
    wordsAgree: output.wordsCounted === output.recordsInBatches * 10,
  };
}

const fmt = (value: number, digits = 1): string =>
  Number.isFinite(value) ? value.toFixed(digits) : "–";
const fmtRate = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0);

/** The Markdown table of a set of runs. */
export function table(results: readonly RunResult[]): string {
  const out = [
    "| job | master | interval | lines/s sent | processed records/s | records/batch | processing p50 / p99 / max ms | scheduling delay p50 / p99 ms | delay trend ms/s (scheduling / end) | fixed ms per batch (intercept) | CPU % of a core | CPU ms per batch (system share) | source paused after / rate limit at the end | stable | words |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|",
  ];
  for (const r of results) {
    const f = r.figures;
    if (f === undefined) {
      out.push(
        `| ${r.form} | ${r.master} | ${r.intervalMs} ms | failed: ${r.failure ?? "?"} ||||||||||`,
      );
      continue;
    }
    out.push(
      `| ${r.form} | ${r.master} | ${r.intervalMs} ms | ${fmtRate(r.offeredPerSecond)} | ${fmtRate(f.recordsPerSecond)} | ${fmt(f.recordsPerBatch, 0)} | ${fmt(f.processingP50)} / ${fmt(f.processingP99)} / ${fmt(f.processingMax)} | ${fmt(f.schedulingP50)} / ${fmt(f.schedulingP99)} | ${fmt(f.schedulingSlope, 2)} / ${fmt(f.endLagSlope, 2)} | ${fmt(f.fixedMs, 2)} | ${fmt(r.cpuPercent, 0)} | ${fmt(r.cpuMsPerBatch, 2)} (${fmt(100 * r.systemShare, 0)}%) | ${fmt(100 * r.pausedShare, 0)}% / ${r.rateLimitAtEnd === undefined ? "none" : fmtRate(r.rateLimitAtEnd)} | ${r.stable ? "✅" : "❌"} | ${r.wordsAgree ? "✅" : "❌"} |`,
    );
  }
  return out.join("\n");
}

/**
 * The fixed cost of a batch across intervals: lines through the columnar local[1] runs at the
 * benchmark's rate, of median processing time and of CPU per batch against records per batch.
 */
function acrossIntervals(results: readonly RunResult[]): string {
  const runs = results.filter(
    (r) =>
      r.form === "columnar" &&
      r.master === "local[1]" &&
      r.rate === undefined &&
      r.figures !== undefined,
  );
  if (runs.length < 2) return "";
  const records = runs.map((r) => r.figures?.recordsPerBatch ?? 0);
  const processing = leastSquares(
    records,
    runs.map((r) => r.figures?.processingP50 ?? 0),
  );
  const cpu = leastSquares(
    records,
    runs.map((r) => r.cpuMsPerBatch),
  );
  return `Across the columnar local[1] runs (${runs.map((r) => `${r.intervalMs} ms`).join(", ")}): median processing time = ${fmt(processing.intercept, 2)} ms + ${fmt(processing.slope * 1000, 2)} µs per record; CPU of the job's process per batch = ${fmt(cpu.intercept, 2)} ms + ${fmt(cpu.slope * 1000, 2)} µs per record.`;
}

/** Replaces the text between the small-batches markers of docs/BENCHMARKS.md. */
function writeDocs(section: string): void {
  const path = join(ROOT, "docs/BENCHMARKS.md");
  const text = readFileSync(path, "utf8");
  const startMarker = "<!-- small-batches:start -->";
  const endMarker = "<!-- small-batches:end -->";
  const from = text.indexOf(startMarker);
  const to = text.indexOf(endMarker);
  if (from < 0 || to < 0) throw new Error(`docs/BENCHMARKS.md has no ${startMarker} … markers`);
  writeFileSync(path, `${text.slice(0, from + startMarker.length)}\n${section}\n${text.slice(to)}`);
}

/** Runs the benchmark; returns its Markdown section. */
export async function main(options: {
  quick: boolean;
  log: (line: string) => void;
  runs?: RunSpec[];
  warmupMs?: number;
  measureMs?: number;
  rate?: number;
  cpuProf?: string;
  docs?: boolean;
}): Promise<string> {
  const runs = options.runs ?? (options.quick ? QUICK_RUNS : FULL_RUNS);
  const warmupMs = options.warmupMs ?? (options.quick ? 1500 : 4000);
  const measureMs = options.measureMs ?? (options.quick ? 3000 : 10_000);
  const rate = options.rate ?? 100_000;
  const started = new Date();
  const loadStart = loadavg()[0] ?? 0;
  options.log("small batches: the streaming core alone on a manual clock...");
  const core = await coreCost(options.quick ? 500 : 2000, options.quick ? 1 : 3);
  const coreLine = `The streaming core alone (\`core-cost.ts\`: a manual clock, a queue input of 10 strings per batch, each output a \`map\` and a \`foreachBatch\`, no socket, no timers, no kernels; median of ${options.quick ? 1 : 3} rounds): ${core.map((c) => `${c.outputs} output${c.outputs === 1 ? "" : "s"} ${fmt(c.wallUs)} µs per batch (CPU ${fmt(c.cpuUs)} µs)`).join(", ")}.`;
  const results: RunResult[] = [];
  for (const spec of runs) {
    options.log(`small batches: ${spec.form} ${spec.master} ${spec.intervalMs} ms...`);
    const result = await runOne(spec, {
      warmupMs,
      measureMs,
      rate,
      ...(options.cpuProf === undefined ? {} : { cpuProf: options.cpuProf }),
    });
    results.push(result);
    const f = result.figures;
    options.log(
      f === undefined
        ? `  failed: ${result.failure}`
        : `  ${fmtRate(f.recordsPerSecond)} records/s, processing p99 ${fmt(f.processingP99)} ms, scheduling trend ${fmt(f.schedulingSlope, 2)} ms/s, fixed ${fmt(f.fixedMs, 2)} ms`,
    );
  }
  const loadEnd = loadavg()[0] ?? 0;
  const section = [
    `Run of ${started.toISOString()}: ${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}; load average ${fmt(loadStart)} at the start and ${fmt(loadEnd)} at the end; ${fmtRate(rate)} lines/s offered, ${warmupMs / 1000} s warm-up then ${measureMs / 1000} s measured per run${options.quick ? " (--quick: not for comparison)" : ""}.`,
    "",
    table(results),
    "",
    acrossIntervals(results),
    "",
    coreLine,
    "",
    `Stable: at least 95% of the rate asked of the generator processed, processing p99 below the interval, and neither the scheduling delay nor the batches' end behind their time growing by more than ${STABLE_SLOPE_MS_PER_S} ms per second of run.`,
    "",
  ].join("\n");
  const dir = join(HERE, "results");
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  writeFileSync(
    join(dir, `${stamp}.json`),
    `${JSON.stringify({ loadStart, loadEnd, results }, null, 2)}\n`,
  );
  writeFileSync(join(dir, `${stamp}.md`), section);
  if (options.docs ?? (!options.quick && options.runs === undefined)) writeDocs(section);
  return section;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = new Map(
    process.argv.slice(2).map((arg) => {
      const [key, value] = arg.replace(/^--/, "").split("=");
      return [key as string, value ?? "true"];
    }),
  );
  const number = (key: string): number | undefined =>
    args.has(key) ? Number(args.get(key)) : undefined;
  const warmupMs = number("warmup");
  const measureMs = number("measure");
  const rate = number("rate");
  const section = await main({
    quick: args.has("quick"),
    log: (line) => process.stderr.write(`${line}\n`),
    ...(args.has("runs") ? { runs: parseRuns(args.get("runs") as string) } : {}),
    ...(warmupMs === undefined ? {} : { warmupMs }),
    ...(measureMs === undefined ? {} : { measureMs }),
    ...(rate === undefined ? {} : { rate }),
    ...(args.has("cpu-prof") ? { cpuProf: args.get("cpu-prof") as string } : {}),
    ...(args.has("no-docs") ? { docs: false } : {}),
  });
  process.stdout.write(`${section}\n`);
}
