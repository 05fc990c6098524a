/**
 * `npm run bench -- --peers [--quick] [--rounds=N] [--no-spark]`: the word count against its
 * peers. Contenders: Spark 3.5.6 DStreams at local[2] (Java 17), Sluice's lambda and columnar
 * forms at local[1] and local[2], a plain Node loop (split + Map, one thread) and a hand-written
 * Rust word count (the limit). Workloads: W1, the word count of each batch (100k and 500k lines
 * per batch); W2, a sliding window of 30 batches sliding by one; and a socket run, 1M lines
 * over TCP on the real clock, where each streaming contender runs at every interval of
 * `SOCKET_INTERVALS_MS` and its fastest counts.
 *
 * Every contender runs in its own process, one at a time, in an order that rotates from round
 * to round, on the same input files (bench/peers/target/data/); every contender digests each
 * batch's counts the same way (digest.ts) and the digests must agree. Per-batch times are
 * reported as median and p90 over the measured batches (after warm-up) of all rounds.
 * The full run rewrites the peers section of docs/BENCHMARKS.md and its chart.
 * `PEERS_ONLY=W2` (ids, comma-separated) runs only those workloads, and leaves the docs as
 * they are.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { batchFile, WORDS_PER_LINE } from "./data.js";
import { buildRust, prepareSpark, RUST_BINARY, sparkCommand } from "./spark.js";
import { targetsMarkdown } from "./targets.js";
import { type TwoCoreCeiling, twoCoreCeiling } from "./two-core-ceiling.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Spark's batch interval on the batch workloads (they run on a manual clock otherwise). */
const BATCH_INTERVAL_MS = 1000;
/**
 * The socket run's batch intervals: each streaming contender runs at each, and the interval
 * where its median is lowest counts, as a user would tune it. A shorter interval waits less
 * for the last batch but costs more per batch (Spark took 5.0 s at 100 ms against 3.6 s at
 * 500 ms); the contenders that cut no batches (the loop, the limit) run once per round.
 */
const SOCKET_INTERVALS_MS = [100, 500] as const;

/**
 * Children still running: ended with the benchmark, so that a run stopped halfway (Ctrl-C, a
 * test's timeout) leaves no JVM or generator behind.
 */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130));
}

function track<C extends ChildProcess>(child: C): C {
  live.add(child);
  child.on("exit", () => live.delete(child));
  return child;
}

interface BatchWorkload {
  readonly kind: "batches";
  readonly id: string;
  readonly title: string;
  readonly linesPerBatch: number;
  readonly files: string[];
  readonly warmup: number;
  readonly measured: number;
  readonly windowBatches: number;
}

interface SocketWorkload {
  readonly kind: "socket";
  readonly id: string;
  readonly title: string;
  readonly lines: number;
  readonly file: string;
}

type Workload = BatchWorkload | SocketWorkload;

/** Where the socket run's generator listens, and the batch interval to cut at. */
interface SocketTarget {
  readonly host: string;
  readonly port: number;
  readonly intervalMs: number;
}

interface Contender {
  readonly name: string;
  readonly short: string;
  /** Cuts its input into batches at an interval (so the socket run tries each interval). */
  readonly streaming: boolean;
  command(workload: Workload, socket?: SocketTarget): [string, string[]];
}

/** A streaming contender's socket run at one batch interval. */
export interface IntervalResult {
  readonly intervalMs: number;
  readonly median: number;
  readonly p90: number;
}

/** One contender's numbers on one workload. */
export interface PeerResult {
  readonly contender: string;
  /** Per measured batch (or, for the socket run, per round): ms. */
  readonly samples: number[];
  readonly median: number;
  readonly p90: number;
  /** Lines per second at the median. */
  readonly linesPerSecond: number;
  /** Digests agreed with the reference on every batch of every round. */
  readonly agrees: boolean;
  readonly failure?: string;
  /** The socket run of a streaming contender: every interval tried; the best one counts. */
  readonly intervals?: IntervalResult[];
  /** The interval of `median` and `p90` (the socket run of a streaming contender). */
  readonly intervalMs?: number;
  /**
   * Batch workloads, Node contenders: the process's CPU time per measured batch (every thread),
   * median ms, and the median of CPU time over wall time per batch (the cores it kept busy).
   */
  readonly cpu?: { readonly medianMs: number; readonly coresBusy: number };
}

export interface PeerWorkloadResult {
  readonly id: string;
  readonly title: string;
  readonly results: PeerResult[];
  readonly referenceDigest: string;
}

function node(script: string, args: readonly string[]): [string, string[]] {
  // A large heap for every Node contender alike: a window can hold many batches.
  return [
    process.execPath,
    ["--max-old-space-size=8192", "--import", "tsx", join(HERE, script), ...args],
  ];
}

function batchArgs(w: BatchWorkload): string[] {
  return [String(w.warmup + w.measured), String(w.windowBatches), ...w.files];
}

function makeContenders(withSpark: boolean): Contender[] {
  const sluice = (form: string, master: string): Contender => ({
    name: `Sluice ${form} ${master}`,
    short: `${form} ${master}`,
    streaming: true,
    command: (w, s) =>
      node("sluice-runner.ts", [
        form,
        master,
        ...(w.kind === "batches"
          ? ["batches", ...batchArgs(w)]
          : [
              "socket",
              s?.host ?? "",
              String(s?.port),
              String(w.lines * WORDS_PER_LINE),
              String(s?.intervalMs),
            ]),
      ]),
  });
  const contenders: Contender[] = [];
  if (withSpark) {
    contenders.push({
      name: "Spark 3.5.6 DStreams local[2]",
      short: "Spark local[2]",
      streaming: true,
      command: (w, s) =>
        sparkCommand(
          w.kind === "batches"
            ? ["batches", String(BATCH_INTERVAL_MS), ...batchArgs(w)]
            : [
                "socket",
                String(s?.intervalMs),
                s?.host ?? "",
                String(s?.port),
                String(w.lines * WORDS_PER_LINE),
              ],
        ),
    });
  }
  contenders.push(
    sluice("lambda", "local[1]"),
    sluice("lambda", "local[2]"),
    sluice("columnar", "local[1]"),
    sluice("columnar", "local[2]"),
    {
      name: "plain Node loop (split + Map, 1 thread)",
      short: "Node loop",
      streaming: false,
      command: (w, s) =>
        node(
          "node-loop.ts",
          w.kind === "batches"
            ? ["batches", ...batchArgs(w)]
            : ["socket", s?.host ?? "", String(s?.port), String(w.lines * WORDS_PER_LINE)],
        ),
    },
    {
      name: "hand-written Rust (2 threads; socket: 1)",
      short: "Rust limit",
      streaming: false,
      command: (w, s) => [
        RUST_BINARY,
        w.kind === "batches"
          ? ["batches", ...batchArgs(w)]
          : ["socket", s?.host ?? "", String(s?.port), String(w.lines * WORDS_PER_LINE)],
      ],
    },
  );
  return contenders;
}

interface ChildOutput {
  readonly lines: Array<Record<string, unknown>>;
  readonly failure?: string;
}

/** Runs a command to its end (or `timeoutMs`), collecting the JSON lines it prints. */
function runChild(
  [command, args]: [string, string[]],
  timeoutMs: number,
  onLine?: (line: Record<string, unknown>) => boolean,
): Promise<ChildOutput> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    const lines: Array<Record<string, unknown>> = [];
    let stdout = "";
    let stderr = "";
    let finished = false;
    const finish = (failure?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(failure === undefined ? { lines } : { lines, failure });
    };
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const parts = stdout.split("\n");
      stdout = parts.pop() as string;
      for (const part of parts) {
        if (!part.startsWith("{")) continue;
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        // The caller may end the run early (Spark keeps running empty batches).
        if (onLine?.(line) === true) finish();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("close", (code) =>
      finish(
        code === 0 ? undefined : `exit ${code}: ${stderr.trim().split("\n").slice(-3).join(" / ")}`,
      ),
    );
  });
}

/**
 * Rounds of the socket run at least (not with `--quick`). A streaming contender's time there
 * depends on where the data falls between two batch boundaries (up to one interval of
 * waiting), and each round gives one time: the rounds start sending at phases spread evenly
 * over the interval (`socketPhaseMs`), the same for every contender.
 */
const SOCKET_ROUNDS = 5;

/**
 * Where round `round` of `rounds` starts sending, in ms past a multiple of `intervalMs` (the
 * streaming contenders cut batches at those multiples of the wall clock): the middles of
 * `rounds` equal slices of the interval.
 */
function socketPhaseMs(round: number, rounds: number, intervalMs: number): number {
  return Math.round(((round + 0.5) / rounds) * intervalMs);
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Runs one contender once on a batch workload: per-batch ms and digests. */
async function runBatchesOnce(c: Contender, w: BatchWorkload, timeoutMs: number) {
  const total = w.warmup + w.measured;
  const out = await runChild(c.command(w), timeoutMs, (line) => line.batch === total - 1);
  const batches = out.lines.filter((l) => typeof l.batch === "number").slice(0, total);
  if (out.failure === undefined && batches.length < total)
    return { ms: [], digests: [], failure: `printed ${batches.length} of ${total} batches` };
  return {
    ms: batches.map((l) => l.ms as number),
    // Only the Node contenders measure their CPU time.
    cpuMs: batches.every((l) => typeof l.cpuMs === "number")
      ? batches.map((l) => l.cpuMs as number)
      : undefined,
    digests: batches.map((l) => String(l.digest)),
    failure: out.failure,
  };
}

/**
 * Runs one contender once on the socket run at batch interval `intervalMs`: elapsed ms from the
 * first byte sent (at `phaseMs` past a batch boundary) to the last word counted.
 */
async function runSocketOnce(
  c: Contender,
  w: SocketWorkload,
  timeoutMs: number,
  intervalMs: number,
  phaseMs: number,
) {
  let startMs: number | undefined;
  let port: number | undefined;
  const generator = track(
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(HERE, "socket-generator.ts"),
        w.file,
        String(intervalMs),
        String(phaseMs),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    ),
  );
  const listening = new Promise<void>((resolve) => {
    let buffered = "";
    generator.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop() as string;
      for (const part of parts) {
        const line = JSON.parse(part) as { port?: number; startMs?: number };
        if (line.port !== undefined) {
          port = line.port;
          resolve();
        }
        if (line.startMs !== undefined) startMs = line.startMs;
      }
    });
  });
  try {
    await listening;
    const out = await runChild(
      c.command(w, { host: "127.0.0.1", port: port as number, intervalMs }),
      timeoutMs,
      (line) => typeof line.endMs === "number",
    );
    const end = out.lines.find((l) => typeof l.endMs === "number");
    if (end === undefined || startMs === undefined)
      return { ms: [], digests: [], failure: out.failure ?? "did not count every word" };
    return {
      ms: [(end.endMs as number) - startMs],
      digests: [String(end.digest)],
      failure: undefined,
    };
  } finally {
    generator.kill("SIGKILL");
  }
}

/** The workload ids `PEERS_ONLY` names (e.g. `W2,socket`), or undefined to run them all. */
function onlyWorkloads(): Set<string> | undefined {
  const only = process.env.PEERS_ONLY;
  return only === undefined || only === "" ? undefined : new Set(only.split(","));
}

/** Runs every workload; returns the results and the Markdown section. */
export async function benchPeers(options: {
  readonly quick: boolean;
  readonly rounds?: number;
  readonly spark: boolean;
  readonly log: (line: string) => void;
}): Promise<{ workloads: PeerWorkloadResult[]; markdown: string; contenders: string[] }> {
  const { quick, log } = options;
  const rounds = options.rounds ?? (quick ? 1 : 2);
  const timeoutMs = (quick ? 5 : 30) * 60_000;
  if (options.spark) prepareSpark(log);
  else log("peers: Spark skipped (--no-spark): the table has no Spark column and no ratios");
  buildRust(log);
  const small = quick ? 20_000 : 100_000;
  const large = quick ? 50_000 : 500_000;
  const files = (lines: number, n: number) =>
    Array.from({ length: n }, (_, i) => batchFile(lines, i));
  log("peers: writing the input files (once)...");
  const workloads: Workload[] = [
    {
      kind: "batches",
      id: "W1-small",
      title: `W1 per-batch word count, ${small / 1000}k lines per batch`,
      linesPerBatch: small,
      files: files(small, 4),
      warmup: quick ? 1 : 4,
      measured: quick ? 2 : 10,
      windowBatches: 0,
    },
    {
      kind: "batches",
      id: "W1-large",
      title: `W1, ${large / 1000}k lines per batch`,
      linesPerBatch: large,
      files: files(large, quick ? 2 : 4),
      warmup: quick ? 1 : 3,
      measured: quick ? 2 : 10,
      windowBatches: 0,
    },
    {
      kind: "batches",
      id: "W2",
      title: `W2 sliding window, ${quick ? 5 : 30} batches, slide 1, ${small / 1000}k lines per batch`,
      linesPerBatch: small,
      files: files(small, 4),
      // The window is full from its last warm-up batch on.
      warmup: quick ? 5 : 30,
      measured: quick ? 2 : 10,
      windowBatches: quick ? 5 : 30,
    },
    {
      kind: "socket",
      id: "socket",
      title: `socket end to end, ${quick ? "100k" : "1M"} lines, real clock`,
      lines: quick ? 100_000 : 1_000_000,
      file: batchFile(quick ? 100_000 : 1_000_000, 0),
    },
  ];
  const only = onlyWorkloads();
  if (only !== undefined) {
    workloads.splice(0, workloads.length, ...workloads.filter((w) => only.has(w.id)));
    log(`peers: PEERS_ONLY: running ${workloads.map((w) => w.id).join(", ") || "no workload"}`);
  }
  const contenders = makeContenders(options.spark);
  const results: PeerWorkloadResult[] = [];
  for (const w of workloads) {
    // Per contender, the samples of each interval it runs at (one entry, 0, but for the
    // streaming contenders on the socket run).
    const intervalsOf = (c: Contender): readonly number[] =>
      w.kind === "socket" && c.streaming ? SOCKET_INTERVALS_MS : [0];
    const samples = contenders.map(
      (c) => new Map(intervalsOf(c).map((ms) => [ms, [] as number[]])),
    );
    const digests = contenders.map(() => [] as string[][]);
    // Per contender, measured batches' CPU time and CPU over wall time (batch workloads).
    const cpu = contenders.map(() => ({ ms: [] as number[], busy: [] as number[] }));
    const failures = contenders.map(() => undefined as string | undefined);
    const workloadRounds = w.kind === "socket" && !quick ? Math.max(rounds, SOCKET_ROUNDS) : rounds;
    for (let round = 0; round < workloadRounds; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const i = (k + round) % contenders.length;
        const c = contenders[i] as Contender;
        for (const intervalMs of intervalsOf(c)) {
          if (failures[i] !== undefined) continue;
          const started = Date.now();
          // The loop and the limit cut no batches: their phase is the longest interval's.
          const phaseOver = intervalMs === 0 ? Math.max(...SOCKET_INTERVALS_MS) : intervalMs;
          const run =
            w.kind === "batches"
              ? await runBatchesOnce(c, w, timeoutMs)
              : await runSocketOnce(
                  c,
                  w,
                  timeoutMs,
                  phaseOver,
                  socketPhaseMs(round, workloadRounds, phaseOver),
                );
          const what = `${c.short}${intervalMs === 0 ? "" : ` at ${intervalMs} ms`}`;
          if (run.failure !== undefined) {
            failures[i] = run.failure;
            log(`peers: ${w.id} ${what}: FAILED (${run.failure})`);
            continue;
          }
          const measured = w.kind === "batches" ? run.ms.slice(w.warmup) : run.ms;
          samples[i]?.get(intervalMs)?.push(...measured);
          if (w.kind === "batches" && "cpuMs" in run && run.cpuMs !== undefined) {
            const cpuMs = run.cpuMs.slice(w.warmup);
            cpu[i]?.ms.push(...cpuMs);
            cpu[i]?.busy.push(...cpuMs.map((ms, b) => ms / (measured[b] as number)));
          }
          (digests[i] as string[][]).push(run.digests);
          log(
            `peers: ${w.id} round ${round + 1}/${workloadRounds} ${what}: median ${percentile(measured, 50).toFixed(0)} ms (${((Date.now() - started) / 1000).toFixed(0)} s)`,
          );
        }
      }
    }
    // The reference is the Rust limit's digests (the last contender), else the first that ran.
    const order = [contenders.length - 1, ...contenders.keys()];
    const refIndex = order.find((i) => (digests[i] as string[][]).length > 0);
    const reference =
      refIndex === undefined ? [] : ((digests[refIndex] as string[][])[0] as string[]);
    const lines = w.kind === "batches" ? w.linesPerBatch : w.lines;
    results.push({
      id: w.id,
      title: w.title,
      referenceDigest: reference.at(-1) ?? "",
      results: contenders.map((c, i) => {
        const tried = [...(samples[i] as Map<number, number[]>)].map(([intervalMs, own]) => ({
          intervalMs,
          own,
          median: percentile(own, 50),
          p90: percentile(own, 90),
        }));
        // The interval with the lowest median counts (one without samples, NaN, never does).
        const best = tried.reduce((a, b) =>
          !Number.isNaN(b.median) && (Number.isNaN(a.median) || b.median < a.median) ? b : a,
        );
        const agrees =
          failures[i] === undefined &&
          (digests[i] as string[][]).every(
            (run) => run.length === reference.length && run.every((d, b) => d === reference[b]),
          );
        return {
          contender: c.name,
          samples: best.own,
          median: best.median,
          p90: best.p90,
          linesPerSecond: lines / (best.median / 1000),
          agrees,
          ...(failures[i] === undefined ? {} : { failure: failures[i] }),
          ...((cpu[i]?.ms.length ?? 0) === 0
            ? {}
            : {
                cpu: {
                  medianMs: percentile(cpu[i]?.ms ?? [], 50),
                  coresBusy: percentile(cpu[i]?.busy ?? [], 50),
                },
              }),
          ...(best.intervalMs === 0
            ? {}
            : {
                intervalMs: best.intervalMs,
                intervals: tried.map(({ intervalMs, median, p90 }) => ({
                  intervalMs,
                  median,
                  p90,
                })),
              }),
        };
      }),
    });
    const disagree =
      results.at(-1)?.results.filter((r) => !r.agrees && r.failure === undefined) ?? [];
    if (disagree.length > 0)
      log(`peers: ${w.id}: DIGESTS DIFFER for ${disagree.map((r) => r.contender).join(", ")}`);
  }
  // What two cores can give this per-word work here, beside the contenders' ratios.
  const w1 = workloads.find((w) => w.id === "W1-small");
  let ceiling: TwoCoreCeiling | undefined;
  if (w1?.kind === "batches") {
    ceiling = await twoCoreCeiling(w1.files, {
      rounds,
      batches: w1.warmup + w1.measured,
      warmup: w1.warmup,
    });
    log(
      `peers: two-core ceiling: ${ceiling.aloneMs.toFixed(0)} ms per batch alone, ${ceiling.togetherMs.toFixed(0)} ms each with two at once: ${ceiling.ratio.toFixed(2)}x`,
    );
  }
  return {
    workloads: results,
    contenders: contenders.map((c) => c.name),
    markdown: toMarkdown(results, contenders, { quick, rounds, spark: options.spark, ceiling }),
  };
}

function fmtRate(linesPerSecond: number): string {
  if (!Number.isFinite(linesPerSecond)) return "–";
  return linesPerSecond >= 1e6
    ? `${(linesPerSecond / 1e6).toFixed(2)}M`
    : `${(linesPerSecond / 1e3).toFixed(0)}k`;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** Speed relative to Spark: Spark's median time over the contender's. */
export function ratioVsSpark(w: PeerWorkloadResult, r: PeerResult): number | undefined {
  const spark = w.results.find((x) => x.contender.startsWith("Spark"));
  if (spark === undefined || spark.failure !== undefined || r.failure !== undefined)
    return undefined;
  return spark.median / r.median;
}

function toMarkdown(
  workloads: PeerWorkloadResult[],
  contenders: Contender[],
  settings: { quick: boolean; rounds: number; spark: boolean; ceiling?: TwoCoreCeiling },
): string {
  const out: string[] = [];
  const header = contenders.map((c) => c.short);
  out.push(
    "### Speed relative to Spark local[2] (median time per batch; lines/s at the median)",
    "",
    `| workload | ${header.join(" | ")} |`,
    `|---|${header.map(() => "---").join("|")}|`,
  );
  for (const w of workloads) {
    const cells = w.results.map((r) => {
      if (r.failure !== undefined) return `failed: ${r.failure}`;
      const ratio = ratioVsSpark(w, r);
      const mark = r.agrees ? "" : " ❌ digest";
      return `${ratio === undefined ? "–" : `${ratio.toFixed(2)}x`} (${fmtRate(r.linesPerSecond)})${mark}`;
    });
    out.push(`| ${w.title} | ${cells.join(" | ")} |`);
  }
  out.push(
    "",
    "### Time per batch in ms, median / p90 (socket run: the whole run, per round)",
    "",
    `| workload | ${header.join(" | ")} |`,
    `|---|${header.map(() => "---").join("|")}|`,
  );
  for (const w of workloads) {
    const cells = w.results.map((r) =>
      r.failure !== undefined
        ? "failed"
        : `${fmtMs(r.median)} / ${fmtMs(r.p90)}${r.intervalMs === undefined ? "" : ` (${r.intervalMs} ms batches)`}`,
    );
    out.push(`| ${w.title} | ${cells.join(" | ")} |`);
  }
  for (const w of workloads) {
    const tried = w.results.filter((r) => r.intervals !== undefined && r.failure === undefined);
    if (tried.length === 0) continue;
    const each = tried.map(
      (r, i) =>
        `${contenders[w.results.indexOf(r)]?.short ?? `contender ${i}`} ${(r.intervals ?? []).map((x) => `${fmtMs(x.median)} at ${x.intervalMs} ms`).join(", ")}`,
    );
    out.push(
      "",
      `${w.id}: each streaming contender ran at batch intervals of ${SOCKET_INTERVALS_MS.join(" and ")} ms and its faster median counts (median ms): ${each.join("; ")}.`,
    );
  }
  const cpuLines = workloads.flatMap((w) => {
    const measured = w.results.filter((r) => r.cpu !== undefined && r.failure === undefined);
    if (measured.length === 0) return [];
    const each = measured.map(
      (r) =>
        `${contenders[w.results.indexOf(r)]?.short ?? r.contender} ${fmtMs(r.cpu?.medianMs ?? Number.NaN)} ms (${(r.cpu?.coresBusy ?? Number.NaN).toFixed(2)})`,
    );
    return [`- ${w.id}: ${each.join("; ")}`];
  });
  if (cpuLines.length > 0) {
    out.push(
      "",
      "CPU time per batch of the Node contenders' whole process (every thread; median ms), and in brackets the cores it kept busy (CPU time over wall time, median):",
      "",
      ...cpuLines,
    );
  }
  out.push("");
  if (settings.quick) out.push("Targets: not judged on --quick (its batches are too small).");
  else {
    const shorts = contenders.map((c) => c.short);
    out.push(...targetsMarkdown(workloads, (w, short) => w.results[shorts.indexOf(short)]));
  }
  const agree = workloads.every((w) => w.results.every((r) => r.agrees || r.failure !== undefined));
  const failed = workloads.flatMap((w) => w.results.filter((r) => r.failure !== undefined));
  out.push(
    "",
    `Digests: ${agree ? "every contender's digest agreed on every batch of every round ✅" : "DIFFER ❌ (see ❌ cells)"}${failed.length > 0 ? `; ${failed.length} run(s) failed` : ""}. Last digest of each workload: ${workloads.map((w) => `${w.id} \`${w.referenceDigest}\``).join(", ")}.`,
    `Settings: ${settings.rounds} round(s) per workload${settings.quick ? " (--quick: small batches, not for comparison)" : `, the socket run ${Math.max(settings.rounds, SOCKET_ROUNDS)}`}${settings.spark ? "" : "; Spark skipped"}.`,
  );
  const { ceiling } = settings;
  const w1 = workloads.find((w) => w.id === "W1-small");
  if (ceiling !== undefined && w1 !== undefined) {
    out.push(
      "",
      `Two cores' ceiling on W1 (\`two-core-ceiling.ts\`): the plain loop's counting takes ${fmtMs(ceiling.aloneMs)} ms per batch in one thread alone and ${fmtMs(ceiling.togetherMs)} ms in each of two threads at once, so two threads do ${ceiling.ratio.toFixed(2)}x one thread's work; \`local[2]\` over \`local[1]\` in this run: ${["lambda", "columnar"].map((form) => `${form} ${speedup(w1, form)}`).join(", ")}.`,
    );
  }
  return out.join("\n");
}

/** `local[2]`'s speed over `local[1]` for one form on one workload, as text ("–" if either failed). */
function speedup(w: PeerWorkloadResult, form: string): string {
  const at = (master: string) =>
    w.results.find((r) => r.contender === `Sluice ${form} ${master}` && r.failure === undefined);
  const one = at("local[1]");
  const two = at("local[2]");
  return one === undefined || two === undefined ? "–" : `${(one.median / two.median).toFixed(2)}x`;
}

/** Replaces the text between the peers markers of docs/BENCHMARKS.md. */
function writeDocs(section: string, png: Buffer): void {
  const path = join(ROOT, "docs/BENCHMARKS.md");
  const text = readFileSync(path, "utf8");
  const start = "<!-- peers:results:start -->";
  const end = "<!-- peers:results:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`docs/BENCHMARKS.md has no ${start} … ${end} markers`);
  writeFileSync(path, `${text.slice(0, from + start.length)}\n${section}\n${text.slice(to)}`);
  writeFileSync(join(ROOT, "docs/benchmarks-peers.png"), png);
}

export async function main(options: {
  quick: boolean;
  rounds?: number;
  spark: boolean;
  log: (line: string) => void;
}): Promise<{ agree: boolean; markdown: string }> {
  const started = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  const { workloads, markdown, contenders } = await benchPeers(options);
  const loadEnd = loadavg()[0] ?? 0;
  const stamp = new Date(started).toISOString();
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}; load average ${loadStart.toFixed(1)} at the start and ${loadEnd.toFixed(1)} at the end; ${((Date.now() - started) / 60000).toFixed(1)} minutes`;
  const section = [`Run of ${stamp}: ${machine}.`, "", markdown, ""].join("\n");
  const dir = join(HERE, "results");
  mkdirSync(dir, { recursive: true });
  const file = stamp.replace(/[:.]/g, "-");
  writeFileSync(
    join(dir, `${file}.json`),
    `${JSON.stringify({ stamp, machine, workloads }, null, 2)}\n`,
  );
  writeFileSync(join(dir, `${file}.md`), section);
  const agree = workloads.every((w) => w.results.every((r) => r.agrees && r.failure === undefined));
  if (!options.quick && options.spark && onlyWorkloads() === undefined) {
    const { chartPng } = await import("./chart.js");
    const png = chartPng(
      contenders,
      workloads.map((w) => ({ title: w.id, ratios: w.results.map((r) => ratioVsSpark(w, r)) })),
    );
    writeDocs(`${section}\n![Speed relative to Spark](benchmarks-peers.png)\n`, png);
    options.log(
      "peers: wrote the peers section of docs/BENCHMARKS.md and docs/benchmarks-peers.png",
    );
  }
  process.stdout.write(`${section}\n`);
  process.stdout.write(`PEERS ${agree ? "AGREE" : "DISAGREE"}\n`);
  return { agree, markdown: section };
}
