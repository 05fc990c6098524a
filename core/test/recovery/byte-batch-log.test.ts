// Byte batches through the write-ahead log: a source that hands its reads over as columns has
// each read logged as one entry of its columns; after a crash between the log and the batch's
// output, a restart replays them as columns, each record exactly once, and a parser after the
// source reads them as it reads live ones.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { MemoryQueue, until } from "./memory-brokers.js";

const folder = folderPerTest("sluice-byte-batch-log-");
const { running } = folder;

/** Every word of the queue's messages counted per batch, under "counts". */
function build(queue: MemoryQueue, outputs: Outputs): (ctx: StreamingContext) => void {
  return (ctx) =>
    outputs.write("counts", ctx.source(queue.plugin(), {}, { id: "queue" }).words().countByValue());
}

/** Each word's count summed over every batch output so far (a replay overwrites its batch). */
function totals(outputs: Outputs): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const [, records] of outputs.batches("counts")) {
    for (const [word, count] of records as [string, number][]) {
      sums[word] = (sums[word] ?? 0) + count;
    }
  }
  return sums;
}

async function publishLogged(queue: MemoryQueue, values: string[]): Promise<void> {
  for (const value of values) {
    const acked = queue.acked;
    queue.publish(value);
    await until(() => queue.acked === acked + 1, `${value} logged and acknowledged`);
  }
}

const entries = async () =>
  (await readdir(join(folder.path, "wal", "queue")).catch(() => [] as string[])).length;

describe("byte batches in the write-ahead log", () => {
  it("are logged, output once, and replayed as columns after a crash before their output", async () => {
    const queue = new MemoryQueue({ byteBatches: true });
    const outputs = new Outputs();
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, build(queue, outputs));
    running.push(first);
    await publishLogged(queue, ["a b", "b c c"]);
    expect(await entries()).toBeGreaterThan(0);
    clock.advance(1000);
    await processed(first, 1000);
    expect(totals(outputs)).toEqual({ a: 1, b: 2, c: 2 });
    await first.stop();
    running.splice(running.indexOf(first), 1);

    // The next run logs two more messages, acknowledges them to the broker, and dies while it
    // records the batch that holds them, before any output or checkpoint covers them.
    const fs = new FaultInjectingFileSystem();
    fs.crashAfter({ step: "open", path: "batch-", after: { step: "sync", path: "segment-" } });
    const clock2 = new ManualClock(1000);
    const second = await startJob(folder.path, clock2, build(queue, outputs), { fileSystem: fs });
    await publishLogged(queue, ["d a", "é é d"]);
    expect(queue.readyCount).toBe(0); // only the log holds them now
    clock2.advance(1000);
    await fs.whenCrashed();
    void second.stop().catch(() => undefined);
    queue.crash();

    const clock3 = new ManualClock(1000);
    const third = await startJob(folder.path, clock3, build(queue, outputs));
    running.push(third);
    clock3.advance(1000);
    await processed(third, 2000);
    expect(totals(outputs)).toEqual({ a: 2, b: 2, c: 2, d: 2, é: 2 });
  });
});
