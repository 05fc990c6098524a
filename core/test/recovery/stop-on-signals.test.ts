import type { StreamingContext } from "sluice";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installStopOnSignals, type SignalProcess } from "../../src/recovery/stop-on-signals.js";
import {
  buildWordCount,
  ManualClock,
  Outputs,
  processed,
  startJob,
  temporaryFolder,
} from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

/** A process whose signals the test sends and whose exit it records. */
class FakeProcess implements SignalProcess {
  readonly handlers = new Map<string, (signal: NodeJS.Signals) => void>();
  readonly exits: number[] = [];
  #exited: (() => void) | undefined;
  /** Resolves at the first exit. */
  readonly exited = new Promise<void>((resolve) => {
    this.#exited = resolve;
  });
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void {
    this.handlers.set(signal, handler);
  }
  off(signal: NodeJS.Signals): void {
    this.handlers.delete(signal);
  }
  exit(code: number): void {
    this.exits.push(code);
    this.#exited?.();
  }
  send(signal: NodeJS.Signals): void {
    this.handlers.get(signal)?.(signal);
  }
}

let folder: { path: string; remove: () => Promise<void> };
const running: { ctx: StreamingContext; clock: ManualClock }[] = [];

beforeEach(async () => {
  folder = await temporaryFolder("sluice-signals-");
});

afterEach(async () => {
  // A graceful stop waits for a batch tick: move the clocks so that every stop completes.
  for (const { ctx, clock } of running.splice(0)) {
    clock.advance(10_000);
    await ctx.stop().catch(() => undefined);
  }
  await folder.remove();
});

describe("stopOnSignals", () => {
  it("stops gracefully on SIGTERM: every record received is output, checkpointed and acknowledged, then exit 0", async () => {
    const log = new MemoryLog();
    const outputs = new Outputs();
    const host = new FakeProcess();
    const written: string[] = [];
    const clock = new ManualClock(0);
    const build = (ctx: StreamingContext) => buildWordCount(ctx, log.plugin(), outputs);
    const ctx = await startJob(folder.path, clock, build);
    running.push({ ctx, clock });
    installStopOnSignals(ctx, { exit: true, log: { write: (text) => written.push(text) } }, host);
    log.append("p0", "a b", "a");
    await until(() => log.caughtUp(), "delivered");
    clock.advance(1000);
    await processed(ctx, 1000);
    log.append("p0", "c a"); // received, waiting for the next batch
    await until(() => log.caughtUp(), "delivered");

    host.send("SIGTERM");
    expect(written[0]).toMatch(/^SIGTERM: stopping after the batches already received/);
    clock.advance(1000); // the batch holding the last record
    await host.exited;
    expect(host.exits).toEqual([0]);
    expect(ctx.state).toBe("STOPPED");
    expect(outputs.batches("totals")).toEqual([
      [
        1000,
        [
          ["a", 2],
          ["b", 1],
        ],
      ],
      [
        2000,
        [
          ["a", 3],
          ["b", 1],
          ["c", 1],
        ],
      ],
    ]);
    expect(log.acked.get("p0")).toBe(3);

    // A restart finds everything committed: nothing is replayed or counted twice.
    log.crash();
    const clock2 = new ManualClock(2000);
    const restarted = await startJob(folder.path, clock2, build);
    running.push({ ctx: restarted, clock: clock2 });
    expect(restarted.recoveryReport).toMatchObject({ checkpointTime: 2000, replayedBatches: [] });
    log.append("p0", "b");
    await until(() => log.caughtUp(), "delivered");
    await processed(restarted, 2000);
    expect(outputs.batches("totals").length).toBe(2);
  });

  it("exits at once on a second signal, with 128 + its number", async () => {
    const log = new MemoryLog();
    const host = new FakeProcess();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, (c) =>
      buildWordCount(c, log.plugin(), new Outputs()),
    );
    running.push({ ctx, clock });
    installStopOnSignals(ctx, { log: { write: () => undefined } }, host);
    log.append("p0", "x");
    await until(() => log.caughtUp(), "delivered");
    host.send("SIGINT"); // waits for a batch tick that never comes
    host.send("SIGINT");
    expect(host.exits).toEqual([130]);
  });

  it("exits 1 naming the timeout when the graceful stop takes too long", async () => {
    const log = new MemoryLog();
    const host = new FakeProcess();
    const written: string[] = [];
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, (c) =>
      buildWordCount(c, log.plugin(), new Outputs()),
    );
    running.push({ ctx, clock });
    installStopOnSignals(ctx, { timeout: 5, log: { write: (text) => written.push(text) } }, host);
    log.append("p0", "x");
    await until(() => log.caughtUp(), "delivered");
    host.send("SIGTERM"); // the batch tick it waits for never comes
    await host.exited;
    expect(host.exits).toEqual([1]);
    expect(written.at(-1)).toMatch(/graceful stop took longer than 5 ms; exiting anyway/);
    // It says what it was waiting for.
    expect(written.at(-1)).toContain("stop: running the batches of what was received");
  });

  it("names the batch and the output operation a timed-out stop waited for", async () => {
    const host = new FakeProcess();
    const written: string[] = [];
    const clock = new ManualClock(0);
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const outputStarted = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const log = new MemoryLog();
    const ctx = await startJob(folder.path, clock, (c) => {
      const words = c.source(log.plugin(), {}, { id: "words" });
      words.count().foreachBatch(() => undefined);
      words.foreachBatch(async () => {
        entered();
        await blocked;
      });
    });
    running.push({ ctx, clock });
    installStopOnSignals(ctx, { timeout: 5, log: { write: (text) => written.push(text) } }, host);
    clock.advance(1000);
    await outputStarted;
    host.send("SIGTERM");
    await host.exited;
    release();
    expect(host.exits).toEqual([1]);
    expect(written.at(-1)).toMatch(
      /still waiting for:\n {2}stop: running the batches of what was received\n {2}batch 1000: running, output 1 \(foreachBatch\) running for \d+ ms/,
    );
  });

  it("removes its handlers when asked", async () => {
    const host = new FakeProcess();
    const log = new MemoryLog();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, (c) =>
      buildWordCount(c, log.plugin(), new Outputs()),
    );
    running.push({ ctx, clock });
    const remove = installStopOnSignals(ctx, {}, host);
    expect([...host.handlers.keys()].sort()).toEqual(["SIGINT", "SIGTERM"]);
    remove();
    expect(host.handlers.size).toBe(0);
  });
});
