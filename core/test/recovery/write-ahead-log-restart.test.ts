// The write-ahead log across restarts, through a whole job: a log that checkpoints emptied during
// a quiet period, and crashes inside every step of a segment roll. Records logged and acknowledged
// to the broker are recovered exactly once, and a restart never trips over what a crash left.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { MemoryQueue, until } from "./memory-brokers.js";

const decoder = new TextDecoder();
const folder = folderPerTest("sluice-wal-restart-");
const { running } = folder;

/** Every record of the queue, once per batch it landed in, in `outputs` under "records". */
function build(queue: MemoryQueue, outputs: Outputs): (ctx: StreamingContext) => void {
  return (ctx) =>
    outputs.write(
      "records",
      ctx
        .source(
          queue.plugin(),
          {},
          { id: "queue", recordId: (record) => decoder.decode(record.value) },
        )
        .map((record) => decoder.decode(record.value)),
    );
}

/** Each record seen across every batch output so far (a replayed batch overwrites its own). */
function seen(outputs: Outputs): string[] {
  return outputs
    .batches("records")
    .flatMap(([, records]) => records as string[])
    .sort();
}

const segments = async () =>
  (await readdir(join(folder.path, "wal", "queue")).catch(() => [] as string[])).filter((name) =>
    name.endsWith(".wal"),
  );

/** Publishes one record at a time, each logged and acknowledged before the next. */
async function publishLogged(queue: MemoryQueue, values: string[]): Promise<void> {
  for (const value of values) {
    const acked = queue.acked;
    queue.publish(value);
    await until(() => queue.acked === acked + 1, `${value} logged and acknowledged`);
  }
}

/**
 * A first run that logs `values`, outputs them, then idles until the checkpoints have let every
 * log segment go, and stops.
 */
async function runUntilTheLogEmpties(queue: MemoryQueue, outputs: Outputs, values: string[]) {
  const clock = new ManualClock(0);
  const ctx = await startJob(folder.path, clock, build(queue, outputs));
  running.push(ctx);
  await publishLogged(queue, values);
  let time = 0;
  do {
    time += 1000;
    clock.advance(1000);
    await processed(ctx, time);
  } while ((await segments()).length > 0);
  await ctx.stop();
  running.splice(running.indexOf(ctx), 1);
  return time;
}

describe("the write-ahead log across restarts", () => {
  it("recovers records logged and acknowledged after a quiet period emptied the log", async () => {
    const queue = new MemoryQueue();
    const outputs = new Outputs();
    const stoppedAt = await runUntilTheLogEmpties(queue, outputs, ["a", "b", "c", "d"]);

    // The next run logs two records, acknowledges them to the broker, and dies while it records
    // the batch that holds them, before any output or checkpoint covers them.
    const fs = new FaultInjectingFileSystem();
    fs.crashAfter({ step: "open", path: "batch-", after: { step: "sync", path: "segment-" } });
    const clock2 = new ManualClock(stoppedAt);
    const second = await startJob(folder.path, clock2, build(queue, outputs), { fileSystem: fs });
    await publishLogged(queue, ["e", "f"]);
    expect(queue.readyCount).toBe(0); // the broker has let them go: only the log holds them
    clock2.advance(1000);
    await fs.whenCrashed();
    // Its file system answers nothing any more, like a killed process: it never finishes stopping.
    void second.stop().catch(() => undefined);
    queue.crash();

    const clock3 = new ManualClock(stoppedAt);
    const third = await startJob(folder.path, clock3, build(queue, outputs));
    running.push(third);
    clock3.advance(1000);
    await processed(third, stoppedAt + 1000);
    expect(seen(outputs)).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
});
