// The keyed part of a cluster job over an in-memory exchange: two processes, each reading its
// own input, share four keyed partitions; the running totals, every window and every batch's
// counts equal what one process computes from all the input, including after a process stops
// and the other takes over its keyed partitions from their last commits.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobContext, type Duration, type StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pairsOfChunks } from "../../../core/src/job/keyed-chunks.js";
import { batchCompleted } from "../../../core/test/streaming/events.js";
import { InMemoryKeyedExchange, InMemoryKeyedLog } from "./in-memory-keyed-exchange.js";
import { tables } from "./keyed-job.js";

const JOB = new URL("./keyed-job.ts", import.meta.url);
const WORDS = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay"];

function linesFor(seed: number, batches: number): string[][] {
  const out: string[][] = [];
  let x = seed;
  for (let b = 0; b < batches; b++) {
    const lines: string[] = [];
    for (let l = 0; l < 3; l++) {
      const words: string[] = [];
      for (let w = 0; w < 4; w++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        words.push(WORDS[(x >>> 16) % WORDS.length] as string);
      }
      lines.push(words.join(" "));
    }
    out.push(lines);
  }
  return out;
}

/** How a test's process runs: on executors, with a checkpoint folder, the reductions alone. */
interface ProcessOptions {
  readonly master?: string;
  readonly checkpoint?: string;
  readonly reduceOnly?: boolean;
  readonly fileOutput?: string;
  readonly combinedBy?: "combineByKey" | "count" | "countByValue";
  readonly checkpointEvery?: Duration;
}

async function processOf(
  name: string,
  batches: string[][],
  log: InMemoryKeyedLog,
  {
    master,
    checkpoint,
    reduceOnly = false,
    fileOutput,
    combinedBy,
    checkpointEvery,
  }: ProcessOptions = {},
): Promise<{ ctx: StreamingContext; clock: ManualClock; exchange: InMemoryKeyedExchange }> {
  const clock = new ManualClock(0);
  const ctx = await createJobContext(
    // The queue input takes its batches out of the array it is given: a copy keeps the test's.
    {
      module: JOB,
      args: {
        batches: batches.map((lines) => [...lines]),
        reduceOnly,
        ...(fileOutput === undefined ? {} : { fileOutput }),
        ...(combinedBy === undefined ? {} : { combinedBy }),
        ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
      },
    },
    {
      batchInterval: 1000,
      clock,
      ...(master === undefined ? {} : { master }),
      ...(checkpoint === undefined ? {} : { checkpoint }),
      cluster: {
        kafka: { brokers: ["127.0.0.1:9092"] },
        group: "keyed-test",
        processId: name,
        keyedPartitions: log.partitions,
      },
    },
  );
  const exchange = new InMemoryKeyedExchange(log, [`in-${name}`]);
  ctx.cluster?.offerKeyedExchange(exchange);
  return { ctx, clock, exchange };
}

// What one process computes from every batch: totals, per-batch counts, windows of 3 batches.
function groundTruth(inputs: string[][][], batches: number) {
  const perBatch = new Map<string, number>();
  const totals = new Map<string, number>();
  for (let b = 0; b < batches; b++) {
    const time = (b + 1) * 1000;
    for (const input of inputs) {
      for (const line of input[b] ?? []) {
        for (const word of line.split(" ")) {
          perBatch.set(`${time}|${word}`, (perBatch.get(`${time}|${word}`) ?? 0) + 1);
          totals.set(word, (totals.get(word) ?? 0) + 1);
        }
      }
    }
  }
  const windows = new Map<string, number>();
  for (let b = 0; b < batches; b++) {
    const time = (b + 1) * 1000;
    for (const word of WORDS) {
      let sum = 0;
      for (let t = time - 2000; t <= time; t += 1000) sum += perBatch.get(`${t}|${word}`) ?? 0;
      if (sum !== 0) windows.set(`${time}|${word}`, sum);
    }
  }
  return { perBatch, totals, windows };
}

/**
 * Two processes, `a` on executor threads (local[2]) owning keyed partitions 0 and 1 and `b`
 * owning 2 and 3, each running its input for `batches` batches until every keyed partition
 * committed each of them.
 */
async function runTwoProcesses(
  inputs: string[][][],
  log: InMemoryKeyedLog,
  batches: number,
  options: ProcessOptions,
) {
  const a = await processOf("a", inputs[0] as string[][], log, { ...options, master: "local[2]" });
  const b = await processOf("b", inputs[1] as string[][], log, options);
  a.exchange.assign([0, 1]);
  b.exchange.assign([2, 3]);
  for (const p of [a, b]) {
    started.push(p.ctx);
    await p.ctx.start();
  }
  for (let i = 0; i < batches; i++) {
    a.clock.advance(1000);
    b.clock.advance(1000);
  }
  await vi.waitFor(() => expect(log.commits).toBe(4 * batches), { timeout: 20_000 });
  return { a, b };
}

/** The pairs of every chunk the map sides wrote, chunk by chunk. */
function chunkPairs<V = number>(log: InMemoryKeyedLog): [string, V][][] {
  return log.logs.flatMap((records) =>
    records.flatMap((record) =>
      record.kind === "chunk" ? [pairsOfChunks([record.chunk]) as [string, V][]] : [],
    ),
  );
}

/** Each batch's lines with one more: "ant" `times` times, so a chunk combines many values. */
function withAnts(batches: string[][], times = 20): string[][] {
  return batches.map((lines) => [...lines, Array(times).fill("ant").join(" ")]);
}

const started: StreamingContext[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((ctx) => ctx.stop()));
  tables.clear();
});

describe("keyed tasks of a cluster job", () => {
  it("share the keyed partitions between two processes and agree with one process", async () => {
    const batches = 6;
    const inputs = [linesFor(1, batches), linesFor(2, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    // One process reads its input on executor threads (local[2]).
    const { a, b } = await runTwoProcesses(inputs, log, batches, {});
    const truth = groundTruth(inputs, batches);
    expect(a.ctx.cluster?.partitions()).toEqual(["keyed-0", "keyed-1"]);
    expect(b.ctx.cluster?.partitions()).toEqual(["keyed-2", "keyed-3"]);
    expect(tables.get("totals")).toEqual(truth.totals);
    expect(tables.get("mapped")).toEqual(truth.totals);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
  });

  it("combines each word's ones on the map side when the keyed part only reduces them, and agrees with one process", async () => {
    const batches = 6;
    const inputs = [linesFor(3, batches), linesFor(4, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    await runTwoProcesses(inputs, log, batches, { reduceOnly: true });
    const truth = groundTruth(inputs, batches);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
    expect(tables.has("totals")).toBe(false);
    // Every chunk holds one pair per word: the count of that word in the process's batch.
    const chunks = chunkPairs(log);
    expect(chunks.length).toBeGreaterThan(0);
    for (const pairs of chunks) {
      const words = pairs.map(([word]) => word);
      expect(new Set(words).size).toBe(words.length);
    }
    // 12 words per process batch, 10 distinct: some counts are over one.
    const counts = chunks.flat().map(([, count]) => count);
    expect(counts.every((count) => count >= 1)).toBe(true);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(2 * batches * 12);
    expect(counts.some((count) => count > 1)).toBe(true);
  });

  it("sends one combiner per word for one combineByKey, merges the combiners, and agrees with one process", async () => {
    const batches = 6;
    const inputs = [withAnts(linesFor(9, batches)), withAnts(linesFor(10, batches))];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    await runTwoProcesses(inputs, log, batches, { combinedBy: "combineByKey" });
    const truth = groundTruth(inputs, batches);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("sums")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
    // Every chunk holds one combiner per word: the word's ones of the process's batch.
    const chunks = chunkPairs<{ sum: number; n: number }>(log);
    expect(chunks.length).toBeGreaterThan(0);
    for (const pairs of chunks) {
      const words = pairs.map(([word]) => word);
      expect(new Set(words).size).toBe(words.length);
    }
    const tallies = chunks.flat().map(([, tally]) => tally);
    expect(tallies.every(({ sum, n }) => n >= 1 && sum === n)).toBe(true);
    expect(tallies.reduce((total, { n }) => total + n, 0)).toBe(2 * batches * (12 + 20));
    const ants = chunks.flat().filter(([word]) => word === "ant");
    expect(ants).toHaveLength(2 * batches);
    expect(ants.every(([, { n }]) => n >= 20)).toBe(true);
  });

  it("sends each word's count for the named count, adds the counts up, and agrees with one process", async () => {
    const batches = 6;
    const inputs = [withAnts(linesFor(11, batches)), withAnts(linesFor(12, batches))];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    await runTwoProcesses(inputs, log, batches, { combinedBy: "count" });
    const truth = groundTruth(inputs, batches);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
    // Every chunk holds one count per word: how often it came in the process's batch.
    const chunks = chunkPairs(log);
    expect(chunks.length).toBeGreaterThan(0);
    for (const pairs of chunks) {
      const words = pairs.map(([word]) => word);
      expect(new Set(words).size).toBe(words.length);
    }
    const counts = chunks.flat().map(([, count]) => count);
    expect(counts.reduce((total, count) => total + count, 0)).toBe(2 * batches * (12 + 20));
    const ants = chunks.flat().filter(([word]) => word === "ant");
    expect(ants).toHaveLength(2 * batches);
    expect(ants.every(([, count]) => count >= 20)).toBe(true);
  });

  it("cuts countByValue and countByValueAndWindow of one stream at one stream of counts", async () => {
    const batches = 6;
    const inputs = [withAnts(linesFor(13, batches)), withAnts(linesFor(14, batches))];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    await runTwoProcesses(inputs, log, batches, { combinedBy: "countByValue" });
    const truth = groundTruth(inputs, batches);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
    const counts = chunkPairs(log)
      .flat()
      .map(([, count]) => count);
    expect(counts.reduce((total, count) => total + count, 0)).toBe(2 * batches * (12 + 20));
  });

  it("sends every pair when the keyed part keeps state from the values", async () => {
    const log = new InMemoryKeyedLog(4, ["in-a"]);
    const a = await processOf("a", linesFor(3, 2), log);
    a.exchange.assign([0, 1, 2, 3]);
    started.push(a.ctx);
    await a.ctx.start();
    a.clock.advance(1000);
    a.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(4 * 2), { timeout: 20_000 });
    const ones = chunkPairs(log)
      .flat()
      .map(([, one]) => one);
    expect(ones).toEqual(Array(2 * 12).fill(1));
  });

  it("writes every keyed partition's files into one folder, none over another's", async () => {
    const batches = 4;
    const inputs = [linesFor(7, batches), linesFor(8, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    const folder = mkdtempSync(join(tmpdir(), "sluice-keyed-files-"));
    try {
      await runTwoProcesses(inputs, log, batches, { reduceOnly: true, fileOutput: folder });
      const written = new Map<string, number>();
      const names = readdirSync(folder);
      const counts = names.filter((name) => name.startsWith("counts-"));
      for (const name of counts) {
        const time = Number(/^counts-(\d+)-/.exec(name)?.[1]);
        for (const line of readFileSync(join(folder, name), "utf8").split("\n")) {
          if (line === "") continue;
          const [word, count] = line.split(" ");
          const key = `${time}|${word}`;
          expect(written.has(key)).toBe(false);
          written.set(key, Number(count));
        }
      }
      expect(written).toEqual(groundTruth(inputs, batches).perBatch);
      expect(counts.every((name) => /^counts-\d{16}-keyed-[0-3]-\d{5}\.txt$/.test(name))).toBe(
        true,
      );
      // Where the input is read, each process writes as itself: both processes' words are there.
      const words = names.filter((name) => name.startsWith("words-"));
      for (const process of ["a", "b"]) {
        const own = words.filter((name) => name.includes(`-process-${process}-`));
        const lines = own.flatMap((name) =>
          readFileSync(join(folder, name), "utf8")
            .split("\n")
            .filter((line) => line !== ""),
        );
        const input = inputs[process === "a" ? 0 : 1] as string[][];
        expect(lines.sort()).toEqual(
          input
            .flat()
            .flatMap((line) => line.split(" "))
            .sort(),
        );
      }
      // saveAsTextFiles: one directory per batch and keyed partition, every count once.
      const texts = new Map<string, number>();
      for (const name of names.filter((entry) => entry.startsWith("texts-"))) {
        const [, time] = /^texts-(\d+)-keyed-[0-3]$/.exec(name) ?? [];
        expect(time).toBeDefined();
        for (const part of readdirSync(join(folder, name)).filter((f) => f.startsWith("part-"))) {
          for (const line of readFileSync(join(folder, name, part), "utf8").split("\n")) {
            if (line === "") continue;
            const [word, count] = JSON.parse(line) as [string, number];
            expect(texts.has(`${time}|${word}`)).toBe(false);
            texts.set(`${time}|${word}`, count);
          }
        }
      }
      expect(texts).toEqual(groundTruth(inputs, batches).perBatch);
      expect(words.length).toBe(words.filter((name) => /-process-[ab]-/.test(name)).length);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("refuses to start with a checkpoint folder, naming it: the state lives in the exchange", async () => {
    const log = new InMemoryKeyedLog(4, ["in-a"]);
    const a = await processOf("a", linesFor(5, 2), log, { checkpoint: "/tmp/keyed-checkpoint" });
    started.push(a.ctx);
    await expect(Promise.resolve().then(() => a.ctx.start())).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringContaining('ctx.checkpoint("/tmp/keyed-checkpoint")'),
    });
  });

  it("moves a stopped process's keyed partitions to the other, from their last commits", async () => {
    const batches = 8;
    const inputs = [linesFor(3, batches), linesFor(4, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    const a = await processOf("a", inputs[0] as string[][], log);
    const b = await processOf("b", (inputs[1] as string[][]).slice(0, 4), log);
    a.exchange.assign([0, 1]);
    b.exchange.assign([2, 3]);
    for (const p of [a, b]) {
      started.push(p.ctx);
      await p.ctx.start();
    }
    for (let i = 0; i < 4; i++) {
      a.clock.advance(1000);
      b.clock.advance(1000);
    }
    await vi.waitFor(() => expect(log.commits).toBe(16), { timeout: 20_000 });
    // b stops after batch 4; a takes over b's keyed partitions and b's input, which has no
    // records after batch 4 (inputs[1] beyond it is cut off for the truth below).
    await b.ctx.stop();
    a.exchange.readInputs(["in-a", "in-b"]);
    a.exchange.assign([0, 1, 2, 3]);
    for (let i = 4; i < batches; i++) a.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(4 * batches), { timeout: 20_000 });
    const truth = groundTruth(
      [inputs[0] as string[][], (inputs[1] as string[][]).slice(0, 4)],
      batches,
    );
    expect(tables.get("totals")).toEqual(truth.totals);
    expect(tables.get("mapped")).toEqual(truth.totals);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
  });

  it("commits at the checkpoint interval the job asks for, and a moved partition computes the batches since again", async () => {
    const batches = 8;
    const inputs = [linesFor(7, batches), linesFor(8, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    const options: ProcessOptions = { checkpointEvery: "2s" };
    const a = await processOf("a", inputs[0] as string[][], log, options);
    const b = await processOf("b", (inputs[1] as string[][]).slice(0, 5), log, options);
    a.exchange.assign([0, 1]);
    b.exchange.assign([2, 3]);
    for (const p of [a, b]) {
      started.push(p.ctx);
      await p.ctx.start();
    }
    const bWroteBatch5 = batchCompleted(b.ctx, 5000);
    for (let i = 0; i < 5; i++) {
      a.clock.advance(1000);
      b.clock.advance(1000);
    }
    await bWroteBatch5;
    // Commits at 2000 and 4000 only, in every keyed partition.
    await vi.waitFor(() => expect(log.commits).toBe(8), { timeout: 20_000 });
    // b stops after batch 5, past its partitions' last commit (4000): a takes them over from
    // that commit and computes batch 5 again, from the chunks b's map side wrote.
    await b.ctx.stop();
    a.exchange.readInputs(["in-a", "in-b"]);
    a.exchange.assign([0, 1, 2, 3]);
    for (let i = 5; i < batches; i++) a.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(16), { timeout: 20_000 });
    expect([...log.changelog.values()].map((entry) => entry.time)).toEqual([
      8000, 8000, 8000, 8000,
    ]);
    const truth = groundTruth(
      [inputs[0] as string[][], (inputs[1] as string[][]).slice(0, 5)],
      batches,
    );
    expect(tables.get("totals")).toEqual(truth.totals);
    expect(tables.get("mapped")).toEqual(truth.totals);
    expect(tables.get("batches")).toEqual(truth.perBatch);
    expect(tables.get("windows")).toEqual(truth.windows);
  });

  it("waits for the process that is behind: a batch completes once every input passed it", async () => {
    const batches = 5;
    const inputs = [linesFor(5, batches), linesFor(6, batches)];
    const log = new InMemoryKeyedLog(4, ["in-a", "in-b"]);
    const a = await processOf("a", inputs[0] as string[][], log);
    const b = await processOf("b", inputs[1] as string[][], log);
    a.exchange.assign([0, 1, 2, 3]);
    for (const p of [a, b]) {
      started.push(p.ctx);
      await p.ctx.start();
    }
    for (let i = 0; i < batches; i++) a.clock.advance(1000);
    await vi.waitFor(() => expect(log.logs[0]?.length).toBeGreaterThanOrEqual(batches));
    // Nothing completes while b has not passed the first batch.
    expect(log.commits).toBe(0);
    expect(tables.get("totals")).toBeUndefined();
    for (let i = 0; i < batches; i++) b.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(4 * batches), { timeout: 20_000 });
    const truth = groundTruth(inputs, batches);
    expect(tables.get("totals")).toEqual(truth.totals);
    expect(tables.get("windows")).toEqual(truth.windows);
  });

  it("takes a partition the exchange revoked as dropped, not as a failure, and goes on", async () => {
    const batches = 6;
    const inputs = [linesFor(7, batches)];
    const log = new InMemoryKeyedLog(2, ["in-a"]);
    const a = await processOf("a", inputs[0] as string[][], log);
    a.exchange.assign([0, 1]);
    started.push(a.ctx);
    await a.ctx.start();
    for (let i = 0; i < 3; i++) a.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(2 * 3), { timeout: 20_000 });
    // Revoked while waiting for batch 4, then given back (as after a rebalance).
    a.exchange.revoke(1);
    // The task sees the AbortError before any assignment says the partition moved.
    for (let turn = 0; turn < 10; turn++) await new Promise(setImmediate);
    expect(a.ctx.scope.firstError()).toBeUndefined();
    a.exchange.assign([0, 1]);
    for (let i = 3; i < batches; i++) a.clock.advance(1000);
    await vi.waitFor(() => expect(log.commits).toBe(2 * batches), { timeout: 20_000 });
    expect(a.ctx.scope.firstError()).toBeUndefined();
    const truth = groundTruth(inputs, batches);
    expect(tables.get("totals")).toEqual(truth.totals);
    expect(tables.get("windows")).toEqual(truth.windows);
  });
});
