/**
 * One Sluice contender of `npm run bench -- --peers`, in its own process (as every contender
 * is): the lambda or columnar word count at local[1] or local[2]. Same output as the Rust limit.
 *   sluice-runner.ts <lambda|columnar> <master> batches <total> <window_batches> <file>...
 *   sluice-runner.ts <lambda|columnar> <master> socket <host> <port> <expected_words> <interval_ms>
 * Batches run on a manual clock, one after the other; a batch's time runs from moving the clock
 * to the end of its output (the digest), and its CPU time is the whole process's (every thread).
 * The lambda form's queue holds each file's lines as a persisted collection (kept on the
 * executors under local[2], as Spark's contender caches its RDDs; `PEERS_SHIP_LINES=1`: arrays
 * of lines, shipped every batch), the columnar form's byte records as a socket or file source
 * delivers them. The socket run uses the real clock.
 */
import { createJobContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { cpuMsSince, readChunks, readLines } from "./data.js";
import { Digest } from "./digest.js";
import { digests, queues, type WordCountArgs } from "./sluice-jobs.js";

const MODULE = new URL("./sluice-jobs.ts", import.meta.url);
const [form, master, mode, ...rest] = process.argv.slice(2);
if ((form !== "lambda" && form !== "columnar") || master === undefined) {
  process.stderr.write("usage: sluice-runner.ts <lambda|columnar> <master> batches|socket ...\n");
  process.exit(2);
}
const formName: WordCountArgs["form"] = form;
const name = `${form}-${master}`;

async function runBatches(total: number, windowBatches: number, files: string[]): Promise<void> {
  // Each form's input as it would arrive: lines as strings, or a source's byte records.
  const batchesOf = <T>(inputs: T[][]) =>
    Array.from({ length: total }, (_, i) => inputs[i % inputs.length] as T[]);
  queues.set(
    name,
    formName === "lambda"
      ? batchesOf(files.map(readLines))
      : batchesOf(files.map((file) => readChunks(file))),
  );
  const clock = new ManualClock(0);
  const args: WordCountArgs = { name, form: formName, windowBatches, batchIntervalMs: 1000 };
  const ctx = await createJobContext(
    { module: MODULE, exportName: "wordCount", args },
    { batchInterval: 1000, clock, master, defaultParallelism: 2 },
  );
  const waiters = new Map<number, () => void>();
  ctx.addListener({ onBatchCompleted: (info) => waiters.get(info.batchTime)?.() });
  await ctx.start();
  const out = digests.get(name) as Digest[];
  for (let i = 0; i < total; i++) {
    const time = (i + 1) * 1000;
    const done = new Promise<void>((resolve) => waiters.set(time, resolve));
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    clock.advance(1000);
    await done;
    const ms = performance.now() - started;
    const cpuMs = cpuMsSince(cpuBefore);
    process.stdout.write(`${JSON.stringify({ batch: i, ms, cpuMs, digest: out[i]?.text() })}\n`);
  }
  await ctx.stop();
}

/** `PEERS_TRACE=1` prints every socket batch (lines, delays, executors' phases) to stderr. */
const trace = process.env.PEERS_TRACE === "1";

async function runSocket(host: string, port: number, expected: number, interval: number) {
  const args: WordCountArgs = {
    name,
    form: formName,
    windowBatches: 0,
    batchIntervalMs: interval,
    socket: { host, port },
  };
  const ctx = await createJobContext(
    { module: MODULE, exportName: "wordCount", args },
    { batchInterval: interval, master: master as string, defaultParallelism: 2 },
  );
  const finished = new Promise<void>((resolve) => {
    let counted = 0;
    ctx.addListener({
      onBatchCompleted: (info) => {
        if (trace) {
          const { batchTime, numRecords, schedulingDelay, processingDelay, execution } = info;
          const phases =
            execution === undefined
              ? ""
              : ` functions ${execution.functionsMs.toFixed(0)} shuffle ${execution.shuffleMs.toFixed(0)} aggregate ${execution.aggregateMs.toFixed(0)} transfer ${execution.transferMs.toFixed(0)} ms`;
          process.stderr.write(
            `batch ${batchTime}: ${numRecords} lines, waited ${schedulingDelay} ms, took ${processingDelay} ms${phases}\n`,
          );
        }
        const out = digests.get(name) as Digest[];
        if (out.length === counted) return;
        counted = out.length;
        const total = new Digest();
        for (const digest of out) {
          total.hi = (total.hi + digest.hi) >>> 0;
          total.lo = (total.lo + digest.lo) >>> 0;
          total.words += digest.words;
        }
        if (total.words >= expected) {
          const endMs = performance.timeOrigin + performance.now();
          process.stdout.write(`${JSON.stringify({ endMs, digest: total.text(false) })}\n`);
          resolve();
        }
      },
    });
  });
  await ctx.start();
  await finished;
  await ctx.stop();
}

if (mode === "batches") {
  await runBatches(Number(rest[0]), Number(rest[1]), rest.slice(2));
} else {
  await runSocket(rest[0] as string, Number(rest[1]), Number(rest[2]), Number(rest[3]));
}
// Executor threads and sockets could keep the process alive: the run is over.
process.exit(0);
