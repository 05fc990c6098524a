// The file source in lines format: a 100 MB file of 67-byte lines (66 bytes and a newline)
// through `ctx.source("file", …).words().countByValue()` on a manual clock, and the source's
// read loop alone (read and acknowledge until every line arrived).
//
//   node --conditions=sluice-source --import tsx bench/file-source-lines.ts [--mb=100] [--only=read|job]
//
// (`--conditions=sluice-source` runs the TypeScript sources; without it `sluice` is the built
// `core/dist`, as after `npm run build`.) Before/after a change: run it in a git worktree of each.
//
// Prints wall time, CPU time, lines per second and the load average, which a shared machine
// needs beside any time (compare runs made one right after the other).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { StreamingContext } from "sluice";
import { createConnectorRegistry } from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";

const LINE_BYTES = 67;

function option(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : arg.slice(name.length + 3);
}

/** `count` lines of words (lowercase, space-separated), each padded to 66 bytes, and how many words. */
function fileText(count: number): { bytes: Uint8Array; words: number } {
  let seed = 7;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const dictionary = Array.from({ length: 5000 }, () => {
    let word = "";
    const length = 3 + (next() % 6);
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + (next() % 26));
    return word;
  });
  const bytes = new Uint8Array(count * LINE_BYTES);
  const encoder = new TextEncoder();
  const width = LINE_BYTES - 1;
  let words = 0;
  for (let row = 0; row < count; row++) {
    let line = dictionary[next() % dictionary.length] as string;
    words++;
    for (;;) {
      const word = dictionary[next() % dictionary.length] as string;
      if (line.length + 1 + word.length > width) break;
      line += ` ${word}`;
      words++;
    }
    // Exactly 66 bytes: a last word of x's, or one more letter on the last word.
    const room = width - line.length;
    if (room >= 2) {
      line += ` ${"x".repeat(room - 1)}`;
      words++;
    } else if (room === 1) {
      line += "y";
    }
    encoder.encodeInto(`${line}\n`, bytes.subarray(row * LINE_BYTES));
  }
  return { bytes, words };
}

function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The source alone: read and acknowledge until every line arrived. */
async function readLoop(directory: string, lines: number, maxRecordsPerRead: number) {
  const registry = createConnectorRegistry({ logger: new LogCapture().logger });
  const source = registry.createSource("file", {
    directory,
    startAt: "earliest",
    pollIntervalMs: 10,
    maxRecordsPerRead,
  }).connector;
  await source.connect(AbortSignal.timeout(10_000));
  const signal = AbortSignal.timeout(600_000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let rows = 0;
  let reads = 0;
  while (rows < lines) {
    const result = await source.read(signal);
    rows += result.columns?.length ?? result.records.length;
    reads++;
    await result.ack();
  }
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  await source.close();
  await registry.dispose();
  return { ms, cpuMs, reads, rows };
}

/** The job: words().countByValue() over the file, one batch per tick of a manual clock. */
async function job(directory: string, words: number) {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  let counted = 0;
  let batches = 0;
  ctx
    .source("file", { directory, format: "lines", startAt: "earliest", pollIntervalMs: 10 })
    .words()
    .countByValue()
    .foreachBatch((batch) => {
      for (const partition of batch.partitions) {
        for (const [, count] of partition) counted += count;
      }
    });
  const waiters = new Map<number, () => void>();
  ctx.addListener({ onBatchCompleted: (info) => waiters.get(info.batchTime)?.() });
  await ctx.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    while (counted < words) {
      batches++;
      const time = batches * 1000;
      const done = new Promise<void>((resolve) => waiters.set(time, resolve));
      clock.advance(1000);
      await done;
      // Lets the source read before the next batch is cut.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await ctx.stop();
  }
  return { ms: performance.now() - started, cpuMs: cpuMsSince(cpu), batches, counted };
}

async function main(): Promise<void> {
  const mb = Number(option("mb", "100"));
  const only = option("only", "all");
  const lines = Math.floor((mb * 1_000_000) / LINE_BYTES);
  const root = await mkdtemp(join(tmpdir(), "sluice-bench-file-lines-"));
  try {
    const directory = join(root, "in");
    await mkdir(directory);
    const { bytes, words } = fileText(lines);
    await writeFile(join(directory, "lines.txt"), bytes);
    console.log(
      `${(bytes.length / 1e6).toFixed(1)} MB, ${lines} lines of ${LINE_BYTES} bytes, ${words} words`,
    );
    if (only !== "job") {
      for (const max of [1_000, 10_000]) {
        // The first pass warms the page cache and the JIT; the second is reported.
        await readLoop(directory, lines, max);
        const run = await readLoop(directory, lines, max);
        console.log(
          `read loop, maxRecordsPerRead ${max}: ${run.ms.toFixed(0)} ms wall, ${run.cpuMs.toFixed(0)} ms CPU, ${run.reads} reads, ${((run.rows / run.cpuMs) * 1000).toFixed(0)} lines/s of CPU, ${((run.rows / run.ms) * 1000).toFixed(0)} lines/s wall (load ${load()})`,
        );
      }
    }
    if (only !== "read") {
      const run = await job(directory, words);
      if (run.counted !== words) throw new Error(`counted ${run.counted} words of ${words}`);
      console.log(
        `job words().countByValue(): ${run.ms.toFixed(0)} ms wall, ${run.cpuMs.toFixed(0)} ms CPU, ${run.batches} batches, ${((lines / run.cpuMs) * 1000).toFixed(0)} lines/s of CPU (load ${load()})`,
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
