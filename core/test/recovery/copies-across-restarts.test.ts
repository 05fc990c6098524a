// Copies a broker sends again after a crash lost their acknowledgement, arriving after the run
// that read the records back from the write-ahead log checkpointed them, let the log go and died
// in turn: the ids still awaited travel in the checkpoint, so a third run drops the copies.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import type { Source, SourceRecord } from "sluice/connector";
import { describe, expect, it } from "vitest";
import type { CheckpointData, InputCheckpoint } from "../../src/recovery/checkpoint-data.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/recovery/envelope.js";
import { AWAIT_COPIES_MS, type SourceLedger } from "../../src/recovery/source-ledger.js";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";
import { secondRunAfterLostAcks } from "./copies-job.js";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { testLedger } from "./ledger-harness.js";
import { until } from "./memory-brokers.js";

const folder = folderPerTest("sluice-copies-across-restarts-");
const { running } = folder;
const FIRST_SEGMENT = "segment-0000000000000001.wal";

const checkpointFile = (time: number) =>
  join(folder.path, `checkpoint-${String(time).padStart(16, "0")}.ckpt`);

/** The checkpoint at `time` as written. */
async function checkpointAt(time: number): Promise<CheckpointData> {
  const file = checkpointFile(time);
  return decodeEnvelope("checkpoint", await readFile(file), file) as CheckpointData;
}

/** The queue's input in the checkpoint at `time`. */
async function queueInputAt(time: number): Promise<InputCheckpoint> {
  const input = (await checkpointAt(time)).inputs.find((entry) => entry.name === "queue");
  if (input === undefined) throw new Error(`the checkpoint at ${time} has no input "queue"`);
  return input;
}

describe("copies of logged records that come only after a later restart", () => {
  it("drops copies arriving in a third run, after the second checkpointed the records, let the log go and died", async () => {
    // The broker holds the copies back while the second run lives (its consumer connects late).
    const run = await secondRunAfterLostAcks(folder.path, running, true);
    const { queue, outputs, build, second, clock: clock2 } = run;
    expect(run.held?.values).toEqual(["a#1", "b#2", "a#3"]);
    for (let time = 1000; time <= 5000; time += 1000) {
      clock2.advance(1000);
      await processed(second, time);
    }
    expect(await readdir(join(folder.path, "wal", "queue"))).not.toContain(FIRST_SEGMENT);
    expect(outputs.batches("totals").at(-1)).toEqual([
      5000,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
    // The second run dies: the broker puts the copies it held back in the queue again.
    queue.crash();
    expect(queue.readyCount).toBe(3);

    const clock3 = new ManualClock(5000);
    const third = await startJob(folder.path, clock3, build);
    running.push(third);
    expect(third.recoveryReport?.checkpointTime).toBe(5000);
    await until(() => queue.acked === 3, "the copies acknowledged");
    clock3.advance(1000);
    await processed(third, 6000);
    expect(outputs.batches("totals").at(-1)).toEqual([
      6000,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
  });

  it("forgets an id once its copy was dropped and a checkpoint after that was written", async () => {
    const run = await secondRunAfterLostAcks(folder.path, running, true);
    const { queue, outputs, second, clock: clock2 } = run;
    expect(run.held?.values).toEqual(["a#1", "b#2", "a#3"]);
    // Two of the three copies come at once.
    queue.publish("a#1", "b#2");
    await until(() => queue.acked === 2, "two copies acknowledged");
    clock2.advance(1000);
    await processed(second, 1000);
    // The checkpoint written after the copies were dropped still keeps their ids (had their
    // acknowledgement died with this run, the broker would send them once more) ...
    expect([...((await queueInputAt(1000)).awaitedIds?.keys() ?? [])]).toEqual([
      "a#1",
      "b#2",
      "a#3",
    ]);
    clock2.advance(1000);
    await processed(second, 2000);
    // ... the next one only the id whose copy has not come.
    expect([...((await queueInputAt(2000)).awaitedIds?.keys() ?? [])]).toEqual(["a#3"]);
    queue.publish("a#3");
    await until(() => queue.acked === 3, "the last copy acknowledged");
    for (let time = 3000; time <= 4000; time += 1000) {
      clock2.advance(1000);
      await processed(second, time);
    }
    expect((await queueInputAt(3000)).awaitedIds?.size).toBe(1);
    expect(await queueInputAt(4000)).not.toHaveProperty("awaitedIds");
    expect(outputs.batches("totals").at(-1)).toEqual([
      4000,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
  });

  it("restores a checkpoint written before awaited ids were kept in it, the log answering for copies as before", async () => {
    // The copies are held back while the second run lives.
    const run = await secondRunAfterLostAcks(folder.path, running, true);
    const { queue, outputs, build, second, clock: clock2 } = run;
    clock2.advance(1000);
    await processed(second, 1000);
    queue.crash();
    // The checkpoint as an older Sluice wrote it: no awaited ids.
    const file = checkpointFile(1000);
    const checkpoint = await checkpointAt(1000);
    const input = checkpoint.inputs.find((entry) => entry.name === "queue");
    expect(input?.awaitedIds?.size).toBe(3);
    delete (input as { awaitedIds?: unknown }).awaitedIds;
    await writeFile(file, encodeEnvelope("checkpoint", checkpoint));

    const clock3 = new ManualClock(1000);
    const third = await startJob(folder.path, clock3, build);
    running.push(third);
    expect(third.recoveryReport).toMatchObject({ checkpointTime: 1000, skippedCheckpoints: [] });
    await until(() => queue.acked === 3, "the copies acknowledged");
    clock3.advance(1000);
    await processed(third, 2000);
    expect(outputs.batches("totals").at(-1)).toEqual([
      2000,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
  });
});

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A message of the queue, named by its text. */
const message = (text: string): SourceRecord => ({
  value: encoder.encode(text),
  headers: {},
  timestampMs: 0,
  partition: "queue",
  offset: text,
});

/**
 * The ledger of a source behind the write-ahead log restarted from a checkpoint awaiting copies of
 * `awaited` (id and running time awaited so far), on a wall clock the test moves, with what it
 * logs.
 */
async function restartedLedger(
  awaited: [string, number][],
  options: { maxAwaitedIds?: number } = {},
): Promise<{
  ledger: SourceLedger;
  clock: { now: number };
  logs: () => Record<string, unknown>[];
}> {
  const clock = { now: 1_000_000 };
  const lines: string[] = [];
  const ledger = testLedger({
    name: "queue",
    wal: new WriteAheadLog(join(folder.path, "wal")),
    recovered: { name: "queue", offsets: new Map(), walSequence: 0, awaitedIds: new Map(awaited) },
    logger: pino({ level: "info" }, { write: (line: string) => lines.push(line) }),
    recordId: (record) => decoder.decode(record.value),
    now: () => clock.now,
    ...options,
  });
  await ledger.beforeStart({} as Source);
  return { ledger, clock, logs: () => lines.map((line) => JSON.parse(line)) };
}

/** The ids a checkpoint at `time` keeps awaiting, then that checkpoint written. */
function checkpoint(ledger: SourceLedger, time: number): Map<string, number> | undefined {
  const awaited = ledger.checkpointAt(time).awaitedIds;
  ledger.checkpointWritten(time);
  return awaited === undefined ? undefined : new Map(awaited);
}

describe("the bounds on the ids awaited", () => {
  it("forgets an id no copy of which came within its running time, and one whose copy was dropped a checkpoint later", async () => {
    const nearly = AWAIT_COPIES_MS - 60_000;
    const { ledger, clock, logs } = await restartedLedger([
      ["old", nearly],
      ["new", 0],
    ]);
    clock.now += 30_000;
    expect(checkpoint(ledger, 1000)).toEqual(
      new Map([
        ["old", nearly + 30_000],
        ["new", 30_000],
      ]),
    );
    clock.now += 30_000;
    expect(checkpoint(ledger, 2000)).toEqual(new Map([["new", 60_000]]));
    expect(logs()).toContainEqual(
      expect.objectContaining({ level: 30, forgotten: 1, afterMs: AWAIT_COPIES_MS }),
    );
    // The copy of the other one comes: dropped, then forgotten a checkpoint later.
    const settled: unknown[] = [];
    const kept = await ledger.receive(
      [message("new"), message("fresh")],
      (error) => settled.push(error),
      AbortSignal.timeout(5_000),
    );
    expect((kept as SourceRecord[]).map((record) => decoder.decode(record.value))).toEqual([
      "fresh",
    ]);
    expect(settled).toEqual([undefined]);
    expect(ledger.duplicatesDropped).toBe(1);
    expect(checkpoint(ledger, 3000)).toEqual(new Map([["new", 60_000]]));
    expect(checkpoint(ledger, 4000)).toBeUndefined();
    await ledger.close();
  });

  it("keeps at most maxAwaitedIds, the newest, and warns about those it forgets", async () => {
    const { ledger, logs } = await restartedLedger(
      [
        ["1", 5],
        ["2", 4],
        ["3", 3],
        ["4", 2],
        ["5", 1],
      ],
      { maxAwaitedIds: 3 },
    );
    expect([...(checkpoint(ledger, 1000)?.keys() ?? [])]).toEqual(["3", "4", "5"]);
    expect(logs()).toContainEqual(
      expect.objectContaining({
        level: 40,
        forgotten: 2,
        kept: 3,
        msg: expect.stringContaining("counted twice"),
      }),
    );
    await ledger.close();
  });
});
