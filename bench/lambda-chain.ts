/**
 * The lambda word count's per-record chain on the main thread (`local[1]`):
 * `lines.flatMap((l) => l.split(" ")).map((w) => [w, 1]).reduceByKey(...)`, with a function and
 * with `"sum"`, against a plain Node loop (`split` + `Map`) over the same lines, side by side in
 * one process. Per contender: ms per batch (median of the timed batches), the process's CPU ms
 * per batch (every thread, so the collector's helpers too; less swayed by a busy machine than
 * wall time), bytes allocated per word (heap used before each collection minus after the previous one, from `v8.GCProfiler`),
 * bytes promoted to the old space per word (old-space growth across scavenges) and the old
 * space's peak growth over the run.
 *
 *   node --import tsx bench/lambda-chain.ts [--lines=100000,500000] [--batches=4] [--rounds=3]
 *
 * Lines are the peers' (10 Zipf(1.2) words from a 100k vocabulary, bench/peers/data.ts).
 */
import { loadavg } from "node:os";
import { GCProfiler, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type DStream, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { batchFile, readLines, WORDS_PER_LINE } from "./peers/data.js";
import { Digest } from "./peers/digest.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key as string, value ?? "true"];
  }),
);
const sizes = (args.get("lines") ?? "100000,500000").split(",").map(Number);
const batches = Number(args.get("batches") ?? 4);
const rounds = Number(args.get("rounds") ?? 3);

type ContenderName = "node loop" | "reduceByKey(fn)" | 'reduceByKey("sum")';
const CONTENDERS: readonly ContenderName[] = ["node loop", "reduceByKey(fn)", 'reduceByKey("sum")'];

interface Run {
  /** Wall time of each batch, ms. */
  readonly batchMs: number[];
  /** CPU time of the process (every thread: collector helpers too) over each batch, ms. */
  readonly cpuMs: number[];
  readonly digest: string;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

/** The plain loop: what the chain does, with nothing in between. */
function nodeLoop(inputs: readonly string[][]): Run {
  const batchMs: number[] = [];
  const cpuMs: number[] = [];
  let digest = "";
  for (const lines of inputs) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const counts = new Map<string, number>();
    for (const line of lines) {
      for (const word of line.split(" ")) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    const out = new Digest();
    for (const [word, count] of counts) out.add(word, count);
    digest = out.text();
    batchMs.push(performance.now() - started);
    cpuMs.push(cpuMsSince(cpu));
  }
  return { batchMs, cpuMs, digest };
}

// Each contender's lambdas are written out separately: V8 keeps allocation feedback (whether
// the pairs a literal makes live long) per function literal, and two jobs sharing one literal
// would each be measured with the other's feedback.
function lambdaJob(lines: DStream<string>): DStream<[string, number]> {
  return lines
    .flatMap((line) => line.split(" "))
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b);
}

function namedJob(lines: DStream<string>): DStream<[string, number]> {
  return lines
    .flatMap((line) => line.split(" "))
    .map((word): [string, number] => [word, 1])
    .reduceByKey("sum");
}

/** The Sluice job on a manual clock, one batch per tick; a batch's time ends with its output. */
async function sluice(inputs: readonly string[][], named: boolean): Promise<Run> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
  const lines = ctx.queueStream(inputs.map((batch) => batch));
  const counts = named ? namedJob(lines) : lambdaJob(lines);
  const digests: string[] = [];
  counts.foreachBatch((batch) => {
    const out = new Digest();
    for (const partition of batch.partitions) {
      for (const [word, count] of partition) out.add(word, count);
    }
    digests.push(out.text());
  });
  const waiters = new Map<number, () => void>();
  ctx.addListener({ onBatchCompleted: (info) => waiters.get(info.batchTime)?.() });
  await ctx.start();
  const batchMs: number[] = [];
  const cpuMs: number[] = [];
  try {
    for (let i = 0; i < inputs.length; i++) {
      const time = (i + 1) * 1000;
      const done = new Promise<void>((resolve) => waiters.set(time, resolve));
      const cpu = process.cpuUsage();
      const started = performance.now();
      clock.advance(1000);
      await done;
      batchMs.push(performance.now() - started);
      cpuMs.push(cpuMsSince(cpu));
    }
  } finally {
    await ctx.stop();
  }
  return { batchMs, cpuMs, digest: digests.at(-1) ?? "" };
}

interface Heap {
  /** Bytes allocated on the JS heap over the run (estimated from every collection). */
  readonly allocated: number;
  /** Bytes moved into the old space by scavenges. */
  readonly promoted: number;
  /** Peak old-space use over the run minus its use at the start. */
  readonly oldSpacePeakGrowth: number;
  /** Time spent collecting, ms. */
  readonly gcMs: number;
}

interface SpaceStats {
  readonly spaceName: string;
  readonly spaceUsedSize: number;
}
interface GcStats {
  readonly heapStatistics: { readonly usedHeapSize: number };
  readonly heapSpaceStatistics: readonly SpaceStats[];
}
interface GcEntry {
  readonly gcType: string;
  readonly cost: number;
  readonly beforeGC: GcStats;
  readonly afterGC: GcStats;
}

function oldSpace(stats: GcStats): number {
  return stats.heapSpaceStatistics.find((s) => s.spaceName === "old_space")?.spaceUsedSize ?? 0;
}

/** Runs `work` under the GC profiler, after a full collection. */
async function measured<T>(work: () => Promise<T> | T): Promise<{ value: T; heap: Heap }> {
  gc();
  const { getHeapSpaceStatistics, getHeapStatistics } = await import("node:v8");
  const startUsed = getHeapStatistics().used_heap_size;
  const startOld =
    getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_used_size ?? 0;
  const profiler = new GCProfiler();
  profiler.start();
  const value = await work();
  const endUsed = getHeapStatistics().used_heap_size;
  const endOld =
    getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_used_size ?? 0;
  const entries = (profiler.stop()?.statistics ?? []) as unknown as GcEntry[];
  let allocated = 0;
  let promoted = 0;
  let peakOld = Math.max(startOld, endOld);
  let gcMs = 0;
  let previous = startUsed;
  for (const entry of entries) {
    allocated += Math.max(0, entry.beforeGC.heapStatistics.usedHeapSize - previous);
    previous = entry.afterGC.heapStatistics.usedHeapSize;
    if (entry.gcType === "Scavenge") {
      promoted += Math.max(0, oldSpace(entry.afterGC) - oldSpace(entry.beforeGC));
    }
    peakOld = Math.max(peakOld, oldSpace(entry.beforeGC), oldSpace(entry.afterGC));
    gcMs += entry.cost / 1000;
  }
  allocated += Math.max(0, endUsed - previous);
  return { value, heap: { allocated, promoted, oldSpacePeakGrowth: peakOld - startOld, gcMs } };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Row {
  readonly lines: number;
  readonly contender: ContenderName;
  readonly msPerBatch: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly cpuMsPerBatch: number;
  readonly bytesPerWord: number;
  readonly promotedPerWord: number;
  readonly oldSpacePeakMiB: number;
  readonly gcMsPerBatch: number;
  readonly digest: string;
}

interface Samples {
  ms: number[];
  cpu: number[];
  heaps: Heap[];
  digest: string;
}

async function benchSize(lines: number): Promise<Row[]> {
  const files = Array.from({ length: Math.min(batches, 3) }, (_, i) =>
    readLines(batchFile(lines, i)),
  );
  const inputs = Array.from({ length: batches }, (_, i) => files[i % files.length] as string[]);
  const words = lines * WORDS_PER_LINE * batches;
  const samples = new Map<ContenderName, Samples>();
  for (const name of CONTENDERS) samples.set(name, { ms: [], cpu: [], heaps: [], digest: "" });
  const run = (name: ContenderName): Promise<Run> | Run =>
    name === "node loop" ? nodeLoop(inputs) : sluice(inputs, name === 'reduceByKey("sum")');
  // One untimed warm-up each, then rounds in rotating order.
  for (const name of CONTENDERS) await run(name);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const name = CONTENDERS[(round + i) % CONTENDERS.length] as ContenderName;
      const { value, heap } = await measured(() => run(name));
      const sample = samples.get(name) as Samples;
      // The first batch of a run compiles the job's code paths: leave it out of the batch times.
      sample.ms.push(...value.batchMs.slice(1));
      sample.cpu.push(...value.cpuMs.slice(1));
      sample.heaps.push(heap);
      sample.digest = value.digest;
    }
  }
  return CONTENDERS.map((name) => {
    const { ms, cpu, heaps, digest } = samples.get(name) as Samples;
    return {
      lines,
      contender: name,
      msPerBatch: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      cpuMsPerBatch: median(cpu),
      bytesPerWord: median(heaps.map((h) => h.allocated)) / words,
      promotedPerWord: median(heaps.map((h) => h.promoted)) / words,
      oldSpacePeakMiB: median(heaps.map((h) => h.oldSpacePeakGrowth)) / 2 ** 20,
      gcMsPerBatch: median(heaps.map((h) => h.gcMs)) / batches,
      digest,
    };
  });
}

const loadStart = loadavg()[0] ?? 0;
const rows: Row[] = [];
for (const lines of sizes) {
  process.stderr.write(
    `lambda chain: ${lines} lines per batch, ${batches} batches x ${rounds} rounds...\n`,
  );
  rows.push(...(await benchSize(lines)));
}
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const out = [
  `load average ${fixed(loadStart, 2)} → ${fixed(loadavg()[0] ?? 0, 2)}; ${process.version}`,
  "",
  "| lines/batch | contender | ms/batch (min–max) | × node loop | CPU ms/batch | alloc B/word | promoted B/word | old-space peak MiB | GC ms/batch | digest |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
];
for (const row of rows) {
  const loop = rows.find((r) => r.lines === row.lines && r.contender === "node loop");
  out.push(
    `| ${row.lines} | ${row.contender} | ${fixed(row.msPerBatch)} (${fixed(row.minMs)}–${fixed(row.maxMs)}) | ${fixed(row.msPerBatch / (loop?.msPerBatch ?? row.msPerBatch), 2)} | ${fixed(row.cpuMsPerBatch)} | ${fixed(row.bytesPerWord)} | ${fixed(row.promotedPerWord)} | ${fixed(row.oldSpacePeakMiB)} | ${fixed(row.gcMsPerBatch)} | ${row.digest} |`,
  );
}
const agree = sizes.every((lines) => {
  const digests = new Set(rows.filter((r) => r.lines === lines).map((r) => r.digest));
  return digests.size === 1;
});
out.push("", agree ? "digests agree" : "DIGESTS DISAGREE");
process.stdout.write(`${out.join("\n")}\n`);
if (!agree) process.exitCode = 1;
