/**
 * Observability benchmark (`npm run bench`, or
 * `node --import tsx bench/observability/run.ts [--quick]`): a `sluice run --ui` job reads words
 * from a local TCP server that writes as fast as the job takes them (flow control keeps the job
 * at its sustainable rate), and once its rate has stopped rising, GET /metrics, GET / and
 * GET /api/job are timed one after the other from this process, one request every 20 ms.
 * Reports p50, p99 and the maximum per path, with the job's rate, scheduling delay and processing
 * time over the same time. Prints Markdown and writes bench/observability/results/<time>.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const JOB = fileURLToPath(new URL("./job.ts", import.meta.url));
const PATHS = ["metrics", "", "api/job"] as const;
// One request every 20 ms (50 a second, far more than pages and a scraper send) keeps the
// client's own work from taking the job's cores on a 2-core machine, as back-to-back requests
// would; a request that takes longer delays the next one, never overlaps it.
const PACE_MS = 20;

interface JobBatch {
  readonly batchTime: number;
  readonly records: number;
  readonly status: string;
  readonly schedulingDelayMs?: number;
  readonly processingMs?: number;
}

interface JobState {
  readonly batchIntervalMs: number;
  readonly completedBatches: number;
  readonly totalRecords: number;
  readonly batches: readonly JobBatch[];
}

/** A TCP server writing lines of words to its client as fast as the client reads them. */
async function startFeeder(): Promise<{ port: number; close(): void }> {
  const words = Array.from({ length: 5000 }, (_, i) => `w${(i * 7919) % 3001}`);
  const lines = Array.from({ length: 500 }, (_, i) => words.slice(i % 4000, (i % 4000) + 10));
  const chunk = Buffer.from(`${lines.map((line) => line.join(" ")).join("\n")}\n`);
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on("error", () => clients.delete(socket));
    socket.on("close", () => clients.delete(socket));
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk)) {
        // Fill the socket until it pushes back; 'drain' resumes.
      }
    };
    socket.on("drain", pump);
    pump();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("feeder not listening");
  return {
    port: address.port,
    close: () => {
      for (const client of clients) client.destroy();
      server.close();
    },
  };
}

/** Resolves with the UI address once `sluice run --json` announces it on stderr. */
function announcedUi(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      const match = /\{"event":"ui","url":"([^"]+)"\}/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`sluice exited (${code}) before its UI:\n${stderr}`)),
    );
  });
}

async function jobState(url: string): Promise<JobState> {
  return (await (await fetch(`${url}api/job`)).json()) as JobState;
}

/** True once the job's records per batch stopped rising (or after 240 batches). */
function rateSettled(state: JobState, quick: boolean): boolean {
  if (quick || state.completedBatches >= 240) return true;
  const records = state.batches
    .filter((batch) => batch.status === "completed")
    .map((batch) => batch.records);
  if (records.length < 40) return false;
  const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
  return sum(records.slice(-20)) <= 1.05 * sum(records.slice(-40, -20));
}

function percentile(sorted: readonly number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

/** Runs the benchmark; resolves to its Markdown section. */
export async function main(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<string> {
  const { quick, log } = options;
  const requestsPerPath = quick ? 300 : 1000;
  const feeder = await startFeeder();
  const loadBefore = loadavg()[0] ?? 0;
  const child = spawn(
    process.execPath,
    [
      "core/bin/sluice.js",
      "run",
      JOB,
      "--batch",
      "500ms",
      "--ui",
      "127.0.0.1:0",
      "--json",
      "--set",
      `job.port=${feeder.port}`,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  try {
    const url = await announcedUi(child);
    // Warm up: flow control raises the job's rate from nothing to what it sustains, which takes
    // many batches. Timing starts once the records per batch stop rising (the last 20 batches
    // bring at most 5% more than the 20 before them), or after 240 batches at the latest.
    const warmupStarted = performance.now();
    const minimumBatches = quick ? 20 : 60;
    let warmedUp: JobState;
    for (;;) {
      warmedUp = await jobState(url);
      if (warmedUp.completedBatches >= minimumBatches && rateSettled(warmedUp, quick)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const warmupSeconds = (performance.now() - warmupStarted) / 1000;
    for (let i = 0; i < 50; i++)
      for (const path of PATHS) await (await fetch(`${url}${path}`)).arrayBuffer();
    const before = await jobState(url);
    const latencies = new Map<string, number[]>(PATHS.map((path) => [path, []]));
    const started = performance.now();
    let next = started;
    for (let i = 0; i < requestsPerPath; i++) {
      for (const path of PATHS) {
        next += PACE_MS;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        else next = performance.now();
        const t0 = performance.now();
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`GET /${path}: ${response.status}`);
        latencies.get(path)?.push(performance.now() - t0);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const after = await jobState(url);
    const during = after.batches.filter(
      (batch) =>
        batch.status === "completed" && batch.batchTime > (before.batches.at(-1)?.batchTime ?? 0),
    );
    const delays = during.map((batch) => batch.schedulingDelayMs ?? 0);
    const processing = during.map((batch) => batch.processingMs ?? 0);
    const recordsPerSecond = (after.totalRecords - before.totalRecords) / seconds;
    const loadAfter = loadavg()[0] ?? 0;
    const lines = [
      "## UI and /metrics while a job runs",
      "",
      `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}; load average before: ${loadBefore.toFixed(2)}, after: ${loadAfter.toFixed(2)}.`,
      `\`sluice run --ui\` on a word count (socket source, 500 ms batches, reduceByKey("sum")) fed as fast as it reads, so flow control holds it at its sustainable rate (timed after ${warmedUp.completedBatches} batches, ${warmupSeconds.toFixed(0)} s, once its rate stopped rising); ${requestsPerPath} requests per path, paths alternating, one request every ${PACE_MS} ms, over ${seconds.toFixed(1)} s. The job meanwhile: ${Math.round(recordsPerSecond).toLocaleString("en")} records/s, ${during.length} batches, scheduling delay median ${percentile(
        [...delays].sort((a, b) => a - b),
        50,
      ).toFixed(
        0,
      )} ms (max ${Math.max(0, ...delays).toFixed(0)} ms), processing time median ${percentile(
        [...processing].sort((a, b) => a - b),
        50,
      ).toFixed(
        0,
      )} ms (max ${Math.max(0, ...processing).toFixed(0)} ms: the longest stretch a batch held the job's thread).`,
      "",
      "| path | p50 ms | p99 ms | max ms | p99 < 100 ms |",
      "| --- | ---: | ---: | ---: | :---: |",
    ];
    for (const [path, samples] of latencies) {
      const sorted = [...samples].sort((a, b) => a - b);
      const p99 = percentile(sorted, 99);
      lines.push(
        `| GET /${path} | ${percentile(sorted, 50).toFixed(1)} | ${p99.toFixed(1)} | ${(sorted.at(-1) ?? 0).toFixed(1)} | ${p99 < 100 ? "✅" : "❌"} |`,
      );
      log(`GET /${path}: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    }
    lines.push("");
    const markdown = lines.join("\n");
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.md`),
      `${markdown}\n`,
    );
    return markdown;
  } finally {
    child.kill("SIGINT");
    await once(child, "exit").catch(() => undefined);
    feeder.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const markdown = await main({
    quick: process.argv.includes("--quick"),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n`);
}
