// Copies a broker sends again after a lost connection took their acknowledgements with it, in
// the same run, when the connection stayed down long enough for checkpoints to let the records'
// log entries go: the ledger still knows their ids, so the copies are dropped.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Source, SourceRecord } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";
import { wordTotalsById } from "./copies-job.js";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { testLedger } from "./ledger-harness.js";
import { MemoryQueue, until } from "./memory-brokers.js";

const folder = folderPerTest("sluice-copies-lost-connection-");
const { running } = folder;
const decoder = new TextDecoder();

const segments = async () =>
  (await readdir(join(folder.path, "wal", "queue")).catch(() => [] as string[])).filter((name) =>
    name.endsWith(".wal"),
  );

describe("copies after a lost connection, in the same run", () => {
  it("drops copies that come after checkpoints let their log entries go", async () => {
    const queue = new MemoryQueue();
    const outputs = new Outputs();
    const clock = new ManualClock(0);
    const job = await startJob(folder.path, clock, wordTotalsById(queue, outputs));
    running.push(job);
    // Logged, and acknowledged in vain: the acknowledgements die with the connection.
    queue.loseAcks = true;
    queue.publish("a#1", "b#2", "a#3");
    const input = job.scope.graph.inputs[0];
    await until(() => input?.hasPendingData() === true, "logged");
    queue.loseAcks = false;
    // The connection stays down while batches and checkpoints go on and the log empties.
    let time = 0;
    do {
      time += 1000;
      clock.advance(1000);
      await processed(job, time);
    } while ((await segments()).length > 0);
    expect(outputs.batches("totals").at(-1)?.[1]).toEqual([
      ["a", 2],
      ["b", 1],
    ]);

    queue.loseConnection();
    await until(() => queue.acked === 3, "the copies read and acknowledged");
    time += 1000;
    clock.advance(1000);
    await processed(job, time);
    expect(outputs.batches("totals").at(-1)).toEqual([
      time,
      [
        ["a", 2],
        ["b", 1],
      ],
    ]);
    expect(queue.readyCount).toBe(0);
  });
});

const message = (text: string): SourceRecord => ({
  value: new TextEncoder().encode(text),
  headers: {},
  timestampMs: 0,
  partition: "queue",
  offset: text,
});

describe("the ids of records the log let go", () => {
  it("keeps the newest maxAcknowledgedIds of them and drops copies of those only", async () => {
    const ledger = testLedger({
      name: "queue",
      wal: new WriteAheadLog(join(folder.path, "wal")),
      recordId: (record) => decoder.decode(record.value),
      maxAcknowledgedIds: 2,
    });
    await ledger.beforeStart({} as Source);
    const signal = AbortSignal.timeout(5_000);
    const texts = (records: readonly SourceRecord[] | unknown) =>
      (records as SourceRecord[]).map((record) => decoder.decode(record.value));
    for (const text of ["1", "2", "3"]) {
      expect(texts(await ledger.receive([message(text)], () => undefined, signal))).toEqual([text]);
    }
    await ledger.truncateThrough(Number.MAX_SAFE_INTEGER);
    // "1" is beyond the two kept: its copy counts again; those of "2" and "3" are dropped.
    const kept = await ledger.receive(["1", "2", "3", "4"].map(message), () => undefined, signal);
    expect(texts(kept)).toEqual(["1", "4"]);
    expect(ledger.duplicatesDropped).toBe(2);
    await ledger.close();
  });
});
