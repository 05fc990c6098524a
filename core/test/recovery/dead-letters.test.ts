import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Batch, batchRecords, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processed, startJob, temporaryFolder } from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

const decoder = new TextDecoder();
let folder: { path: string; remove: () => Promise<void> };
const running: StreamingContext[] = [];

beforeEach(async () => {
  folder = await temporaryFolder("sluice-dead-letters-");
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop().catch(() => undefined);
  await folder.remove();
});

async function readLines(directory: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (name.startsWith(".")) continue;
    lines.push(...(await readFile(join(directory, name), "utf8")).split("\n").filter(Boolean));
  }
  return lines;
}

/** A job parsing JSON numbers from a log; `deadLetters` adds a dead-letter sink. */
async function startParser(
  log: MemoryLog,
  outputs: number[][],
  calls: string[],
  deadLetters: boolean,
) {
  const clock = new ManualClock(0);
  const ctx = await startJob(join(folder.path, "checkpoint"), clock, (c) => {
    if (deadLetters) {
      c.deadLetters("file", { directory: join(folder.path, "dead"), format: "jsonl" });
    }
    c.source(log.plugin(), {}, { id: "numbers" })
      .map((record) => {
        const text = decoder.decode(record.value);
        calls.push(text);
        return JSON.parse(text) as number;
      })
      .foreachBatch((batch: Batch<number>) => {
        outputs.push(batchRecords(batch));
      });
  });
  running.push(ctx);
  return { ctx, clock };
}

describe("a record an operation throws on", () => {
  it("fails its batch after 3 attempts, naming the operation, the batch and the source offset", async () => {
    const log = new MemoryLog();
    const outputs: number[][] = [];
    const calls: string[] = [];
    const { ctx, clock } = await startParser(log, outputs, calls, false);
    log.append("p0", "1", "2", "{oops", "4");
    await until(() => log.caughtUp(), "delivered");
    clock.advance(1000);
    await expect(processed(ctx, 1000)).rejects.toMatchObject({
      code: "SLUICE_RECORD_FAILED",
      message: expect.stringMatching(
        /^map failed on a record in the batch at 1000 ms from partition "p0" at offset 3 \(3 attempts\): .*JSON.*The record: \{oops\./,
      ),
    });
    expect(calls.filter((text) => text === "{oops")).toHaveLength(3);
    expect(outputs).toEqual([]);
    expect(log.acked.size).toBe(0); // a failed batch is not acknowledged
  });

  it("goes to the dead-letter sink with the error, operation and offset, and the batch goes on", async () => {
    const log = new MemoryLog();
    const outputs: number[][] = [];
    const { ctx, clock } = await startParser(log, outputs, [], true);
    log.append("p0", "1", "2", "{oops", "4");
    await until(() => log.caughtUp(), "delivered");
    clock.advance(1000);
    await processed(ctx, 1000);
    expect(outputs).toEqual([[1, 2, 4]]);
    const letters = (await readLines(join(folder.path, "dead"))).map((line) => JSON.parse(line));
    expect(letters).toEqual([
      {
        batchTime: 1000,
        operation: "map",
        error: expect.stringContaining("JSON"),
        source: { partition: "p0", offset: "3" },
        record: "{oops",
      },
    ]);
    expect(log.acked.get("p0")).toBe(4); // checkpointed and acknowledged, dead letter included
  });

  it("is left out by filter and flatMap too when there is a dead-letter sink", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.deadLetters("file", { directory: join(folder.path, "dead") });
    const seen: number[][] = [];
    ctx
      .queueStream([[1, 2, 3, 4]])
      .filter((n) => {
        if (n === 2) throw new Error("two is refused");
        return true;
      })
      .flatMap((n) => {
        if (n === 3) throw new Error("three is refused");
        return [n, n * 10];
      })
      .foreachBatch((batch: Batch<number>) => {
        seen.push(batchRecords(batch));
      });
    running.push(ctx);
    await ctx.start();
    clock.advance(1000);
    await processed(ctx, 1000);
    expect(seen).toEqual([[1, 10, 4, 40]]);
    const letters = (await readLines(join(folder.path, "dead"))).map((line) => JSON.parse(line));
    expect(letters.map((letter) => [letter.operation, letter.record, letter.error])).toEqual([
      ["filter", "2", "two is refused"],
      ["flatMap", "3", "three is refused"],
    ]);
  });
});

describe("a record a sink refuses", () => {
  async function startSinkJob(deadLetters: boolean) {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    if (deadLetters)
      ctx.deadLetters("file", { directory: join(folder.path, "dead"), format: "jsonl" });
    ctx
      .queueStream([['{"a":1}', "not json", '{"b":2}']])
      .sink("file", { directory: join(folder.path, "out"), format: "jsonl" });
    running.push(ctx);
    await ctx.start();
    clock.advance(1000);
    return ctx;
  }

  it("fails the batch naming the record without a dead-letter sink", async () => {
    const ctx = await startSinkJob(false);
    await ctx.scope.awaitProcessed(1000);
    expect(ctx.scope.firstError()).toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining("record 1 of batch 1000, partition 0 is not JSON"),
    });
  });

  it("goes to the dead-letter sink, and the sink writes the others", async () => {
    const ctx = await startSinkJob(true);
    await processed(ctx, 1000);
    expect(await readLines(join(folder.path, "out"))).toEqual(['{"a":1}', '{"b":2}']);
    const letters = (await readLines(join(folder.path, "dead"))).map((line) => JSON.parse(line));
    expect(letters).toEqual([
      {
        batchTime: 1000,
        operation: "sink(sink:file#2)", // the dead-letter sink is file#1
        error: expect.stringContaining("is not JSON"),
        errorCode: "SLUICE_INVALID_RECORD",
        batchPosition: { partition: 0, index: 1 },
        record: "not json",
      },
    ]);
  });
});
