import type { SinkRecord } from "sluice";
import { SinkSession } from "sluice/advanced";
import {
  BackoffError,
  NotConnectedError,
  type Sink,
  type WriteBatchContext,
} from "sluice/connector";
import { describe, expect, it } from "vitest";

type Step = "ok" | Error;

/** A sink that answers connect/writeBatch from scripts, recording every call. */
class ScriptedSink implements Sink {
  readonly calls: string[] = [];
  readonly contexts: WriteBatchContext[] = [];
  constructor(
    private readonly connects: Step[],
    private readonly writes: Step[],
  ) {}
  async connect(): Promise<void> {
    this.calls.push("connect");
    const step = this.connects.shift() ?? "ok";
    if (step !== "ok") throw step;
  }
  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.calls.push(`write ${context.batchTime} x${records.length}`);
    this.contexts.push(context);
    const step = this.writes.shift() ?? "ok";
    if (step !== "ok") throw step;
  }
  async close(): Promise<void> {}
}

const context = { batchTime: 1_000, partition: 0, idempotencyKey: "k" };
const records = [{ value: new Uint8Array([1]) }];
const signal = new AbortController().signal;
const lost = () => new NotConnectedError("broken pipe");

describe("SinkSession", () => {
  it("connects first, and on a lost connection reconnects with backoff and writes the same batch", async () => {
    const waits: number[] = [];
    const sink = new ScriptedSink(["ok", lost(), "ok"], [lost(), "ok"]);
    const session = new SinkSession(sink, {
      delay: async (ms) => void waits.push(ms),
      random: () => 0.5,
    });
    await session.write(records, context, signal);
    expect(sink.calls).toEqual(["connect", "write 1000 x1", "connect", "connect", "write 1000 x1"]);
    expect(waits).toEqual([100, 200]);
  });

  it("waits as a BackoffError asks, without reconnecting", async () => {
    const waits: number[] = [];
    const sink = new ScriptedSink([], [new BackoffError("slow down", { retryAfterMs: 300 }), "ok"]);
    await new SinkSession(sink, { delay: async (ms) => void waits.push(ms) }).write(
      records,
      context,
      signal,
    );
    expect(sink.calls).toEqual(["connect", "write 1000 x1", "write 1000 x1"]);
    expect(waits).toEqual([300]);
  });

  it("fails the batch at once on any other error, and after maxAttempts", async () => {
    const failing = new ScriptedSink([], [new Error("table does not exist")]);
    await expect(new SinkSession(failing).write(records, context, signal)).rejects.toThrow(
      "table does not exist",
    );
    const down = new ScriptedSink([lost(), lost(), lost()], []);
    const session = new SinkSession(down, { delay: async () => undefined, maxAttempts: 2 });
    await expect(session.write(records, context, signal)).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
    expect(down.calls).toEqual(["connect", "connect"]);
  });

  it("once retriesEnd is aborted, still makes a first attempt but never another", async () => {
    const stopping = new AbortController();
    stopping.abort(new Error("stopping"));
    const healthy = new ScriptedSink([], []);
    await new SinkSession(healthy, { retriesEnd: stopping.signal }).write(records, context, signal);
    expect(healthy.calls).toEqual(["connect", "write 1000 x1"]);
    // The sink hears it too, for the retries it makes inside writeBatch.
    expect(healthy.contexts[0]?.retriesEnd).toBe(stopping.signal);

    const waits: number[] = [];
    const down = new ScriptedSink([lost(), "ok"], []);
    const session = new SinkSession(down, {
      delay: async (ms) => void waits.push(ms),
      retriesEnd: stopping.signal,
    });
    await expect(session.write(records, context, signal)).rejects.toThrow("broken pipe");
    expect(down.calls).toEqual(["connect"]);
    expect(waits).toEqual([]);
  });

  it("ends the wait before a retry when retriesEnd is aborted during it", async () => {
    const stopping = new AbortController();
    const down = new ScriptedSink([lost(), "ok"], []);
    const session = new SinkSession(down, {
      delay: (_, waitSignal) =>
        new Promise<void>((_resolve, reject) => {
          waitSignal.addEventListener("abort", () => reject(waitSignal.reason), { once: true });
          stopping.abort(new Error("stopping"));
        }),
      retriesEnd: stopping.signal,
    });
    await expect(session.write(records, context, signal)).rejects.toThrow("stopping");
    expect(down.calls).toEqual(["connect"]);
  });
});
