// Copies a broker sends again after a lost connection took their acknowledgements with it, when
// the connection stayed down long enough for checkpoints to let the records' log entries go: the
// ledger still knows their ids, so the copies are dropped, in the same run or, when the run died
// before the source reconnected, in the next.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Source, SourceRecord } from "sluice/connector";
import { describe, expect, it } from "vitest";
import type { SourceLedgerOptions } from "../../src/recovery/source-ledger.js";
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

/**
 * A job of word totals whose first three messages are logged and acknowledged in vain (the
 * acknowledgements die with a connection that is dying unnoticed), then batches and
 * checkpoints until the log let their entries go; gives the time of the last batch.
 */
async function logThenLetGoWithDeadAcks(queue: MemoryQueue, outputs: Outputs) {
  const build = wordTotalsById(queue, outputs);
  const clock = new ManualClock(0);
  const job = await startJob(folder.path, clock, build);
  running.push(job);
  queue.loseAcks = true;
  queue.publish("a#1", "b#2", "a#3");
  const input = job.scope.graph.inputs[0];
  await until(() => input?.hasPendingData() === true, "logged");
  queue.loseAcks = false;
  let time = 0;
  do {
    time += 1000;
    clock.advance(1000);
    await processed(job, time);
  } while ((await segments()).length > 0);
  return { build, clock, job, time };
}

describe("copies after a lost connection, in the same run", () => {
  it("drops copies that come after checkpoints let their log entries go", async () => {
    const queue = new MemoryQueue();
    const outputs = new Outputs();
    const { clock, job, time: logEmpty } = await logThenLetGoWithDeadAcks(queue, outputs);
    let time = logEmpty;
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

/**
 * Loses the connection after checkpoints let the log go, keeps the broker out of reach for one
 * more checkpoint, kills the run and starts the next, which reads the broker's copies: gives the
 * next run's first totals.
 */
async function diesBeforeReconnecting(queue: MemoryQueue) {
  const outputs = new Outputs();
  // Checkpoints let the log go before the loss is noticed.
  const run = await logThenLetGoWithDeadAcks(queue, outputs);
  const { build, clock, job } = run;
  let time = run.time;
  const reconnectFailed = new Promise<void>((resolve) =>
    job.addListener({ onReceiverError: () => resolve() }),
  );
  // The loss is noticed and the broker stays out of reach; one more checkpoint, then the run
  // dies before its source could reconnect.
  queue.down = true;
  queue.loseConnection();
  await reconnectFailed;
  time += 1000;
  clock.advance(1000);
  await processed(job, time);
  queue.crash();
  queue.down = false;
  expect(queue.readyCount).toBe(3);

  const next = new ManualClock(time);
  const second = await startJob(folder.path, next, build);
  running.push(second);
  expect(second.recoveryReport?.checkpointTime).toBe(time);
  await until(() => queue.acked === 3, "the copies read and acknowledged");
  next.advance(1000);
  await processed(second, time + 1000);
  return outputs.batches("totals").at(-1);
}

describe("copies after a lost connection, in the next run", () => {
  it("drops copies that come after the run died before its source reconnected", async () => {
    const totals = await diesBeforeReconnecting(new MemoryQueue());
    expect(totals?.[1]).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });

  it("reaches back only as long as the source says a dead connection goes unnoticed", async () => {
    // A source that notices a dead connection at once: what the log let go before the loss
    // counts as delivered, so its copies count again.
    const totals = await diesBeforeReconnecting(new MemoryQueue({ deadConnectionTimeoutMs: 0 }));
    expect(totals?.[1]).toEqual([
      ["a", 4],
      ["b", 2],
    ]);
  });
});

const message = (text: string): SourceRecord => ({
  value: new TextEncoder().encode(text),
  headers: {},
  timestampMs: 0,
  partition: "queue",
  offset: text,
});

/** A started ledger that names records by their text, on a clock the test moves (`clock.now`). */
async function ledgerOnClock(options: Partial<SourceLedgerOptions> = {}) {
  const clock = { now: 0 };
  const ledger = testLedger({
    name: "queue",
    wal: new WriteAheadLog(join(folder.path, "wal")),
    recordId: (record) => decoder.decode(record.value),
    awaitCopiesMs: 3_600_000,
    now: () => clock.now,
    ...options,
  });
  await ledger.beforeStart({} as Source);
  return { clock, ledger };
}

describe("the ids awaited at a lost connection", () => {
  it("are those logged or let go within unconfirmedAcknowledgementsMs, awaited from the loss on", async () => {
    const { clock, ledger } = await ledgerOnClock({ unconfirmedAcknowledgementsMs: 60_000 });
    const signal = AbortSignal.timeout(5_000);
    await ledger.receive([message("old")], () => undefined, signal);
    await ledger.truncateThrough(Number.MAX_SAFE_INTEGER);
    clock.now = 2 * 3_600_000;
    await ledger.receive([message("recent")], () => undefined, signal);
    await ledger.truncateThrough(Number.MAX_SAFE_INTEGER);
    clock.now += 59_000;
    await ledger.receive([message("logged")], () => undefined, signal);
    ledger.connectionLost();
    // "old" was let go two hours before the loss: its acknowledgement reached the broker.
    // Awaited from the loss, two hours into the run, not from the run's start.
    ledger.connected();
    clock.now += 1_000;
    expect(ledger.checkpointAt(0).awaitedIds).toEqual(
      new Map([
        ["recent", 1_000],
        ["logged", 1_000],
      ]),
    );
    await ledger.close();
  });

  it("reach back as long as the source says a dead connection goes unnoticed", async () => {
    const { clock, ledger } = await ledgerOnClock({ unconfirmedAcknowledgementsMs: 600_000 });
    const signal = AbortSignal.timeout(5_000);
    await ledger.receive([message("early")], () => undefined, signal);
    await ledger.truncateThrough(Number.MAX_SAFE_INTEGER);
    clock.now = 60_000;
    await ledger.receive([message("late")], () => undefined, signal);
    await ledger.truncateThrough(Number.MAX_SAFE_INTEGER);
    clock.now = 100_000;
    // The source's 90 s, not the ledger's 10 minutes: "early" was let go 100 s before the loss.
    ledger.connectionLost(90_000);
    expect([...(ledger.checkpointAt(0).awaitedIds?.keys() ?? [])]).toEqual(["late"]);
    await ledger.close();
  });

  it("are awaited for awaitCopiesMs of time connected: the time the connection is down does not count", async () => {
    const { clock, ledger } = await ledgerOnClock();
    await ledger.receive([message("x")], () => undefined, AbortSignal.timeout(5_000));
    clock.now = 10_000;
    ledger.connectionLost();
    // Two hours down: the broker sends the copy once the source is back, so "x" still waits.
    clock.now += 2 * 3_600_000;
    expect(ledger.checkpointAt(0).awaitedIds).toEqual(new Map([["x", 0]]));
    ledger.connected();
    clock.now += 1_800_000;
    expect(ledger.checkpointAt(0).awaitedIds).toEqual(new Map([["x", 1_800_000]]));
    // A second loss pauses it again; an hour connected in all, and it is forgotten.
    ledger.connectionLost();
    clock.now += 5 * 3_600_000;
    ledger.connected();
    clock.now += 1_800_000;
    expect(ledger.checkpointAt(0).awaitedIds).toBeUndefined();
    await ledger.close();
  });
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
