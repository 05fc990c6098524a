import { SourceSession } from "sluice/advanced";
import {
  BackoffError,
  backoffDelay,
  EndOfInputError,
  NotConnectedError,
  type ReadResult,
  type Source,
} from "sluice/connector";
import { describe, expect, it } from "vitest";

type Step = "ok" | Error;

/** A source that answers connect/read from scripts, recording every call. */
class ScriptedSource implements Source {
  readonly calls: string[] = [];
  constructor(
    private readonly connects: Step[],
    private readonly reads: Step[],
  ) {}
  async connect(): Promise<void> {
    this.calls.push("connect");
    const step = this.connects.shift() ?? "ok";
    if (step !== "ok") throw step;
  }
  async read(): Promise<ReadResult> {
    this.calls.push("read");
    const step = this.reads.shift() ?? new EndOfInputError();
    if (step !== "ok") throw step;
    return { records: [], ack: () => undefined };
  }
  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {}
}

function recordingDelay(waits: number[]) {
  return async (ms: number): Promise<void> => {
    waits.push(ms);
  };
}

const signal = new AbortController().signal;
const lost = () => new NotConnectedError("connection refused");

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, spread by the jitter", () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelay(policy, attempt, () => 0.5))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(policy, 2, () => 0)).toBe(100);
    expect(backoffDelay(policy, 2, () => 1)).toBe(300);
  });
});

describe("SourceSession", () => {
  it("retries connect with growing backoff until the source is reachable", async () => {
    const waits: number[] = [];
    const source = new ScriptedSource([lost(), lost(), lost(), "ok"], ["ok"]);
    const session = new SourceSession(source, { delay: recordingDelay(waits), random: () => 0.5 });
    expect(await session.next(signal)).toBeDefined();
    expect(source.calls).toEqual(["connect", "connect", "connect", "connect", "read"]);
    // DEFAULT_BACKOFF: 100 ms doubling; random 0.5 is the middle of the jitter range.
    expect(waits).toEqual([100, 200, 400]);
  });

  it("reconnects when a read reports the connection lost, and counts it", async () => {
    const waits: number[] = [];
    const source = new ScriptedSource(["ok", lost(), "ok"], [lost(), "ok"]);
    const session = new SourceSession(source, { delay: recordingDelay(waits), random: () => 0.5 });
    expect(await session.next(signal)).toBeDefined();
    expect(source.calls).toEqual(["connect", "read", "connect", "connect", "read"]);
    expect(waits).toEqual([100]);
    expect(session.reconnects).toBe(1);
  });

  it("tells of a connection a read found lost, once, before reconnecting", async () => {
    const source = new ScriptedSource(["ok", lost(), "ok"], [lost(), "ok"]);
    const session = new SourceSession(source, {
      delay: recordingDelay([]),
      onConnectionLost: () => source.calls.push("lost"),
    });
    expect(await session.next(signal)).toBeDefined();
    // A failed connect is no lost connection: told once, for the read.
    expect(source.calls).toEqual(["connect", "read", "lost", "connect", "connect", "read"]);
  });

  it("tells of every connect that succeeded, the first one included", async () => {
    const source = new ScriptedSource(["ok", lost(), "ok"], [lost(), "ok"]);
    const session = new SourceSession(source, {
      delay: recordingDelay([]),
      onConnected: () => source.calls.push("connected"),
    });
    expect(await session.next(signal)).toBeDefined();
    expect(source.calls).toEqual([
      "connect",
      "connected",
      "read",
      "connect",
      "connect",
      "connected",
      "read",
    ]);
  });

  it("waits as long as a BackoffError asks, then reads again", async () => {
    const waits: number[] = [];
    const source = new ScriptedSource(
      [],
      [new BackoffError("throttled", { retryAfterMs: 750 }), "ok"],
    );
    const session = new SourceSession(source, { delay: recordingDelay(waits) });
    expect(await session.next(signal)).toBeDefined();
    expect(waits).toEqual([750]);
  });

  it("reports end of input as undefined, for good", async () => {
    const source = new ScriptedSource([], ["ok", new EndOfInputError()]);
    const session = new SourceSession(source);
    expect(await session.next(signal)).toBeDefined();
    expect(await session.next(signal)).toBeUndefined();
    expect(await session.next(signal)).toBeUndefined();
    expect(session.ended).toBe(true);
    expect(source.calls).toEqual(["connect", "read", "read"]);
  });

  it("rethrows any other error at once (it is fatal)", async () => {
    const source = new ScriptedSource([], [new Error("bad credentials")]);
    await expect(new SourceSession(source).next(signal)).rejects.toThrow("bad credentials");
    const refused = new ScriptedSource([new Error("unknown host")], []);
    await expect(new SourceSession(refused).next(signal)).rejects.toThrow("unknown host");
  });

  it("gives up after maxConnectAttempts", async () => {
    const source = new ScriptedSource([lost(), lost(), lost()], []);
    const session = new SourceSession(source, { delay: recordingDelay([]), maxConnectAttempts: 2 });
    await expect(session.next(signal)).rejects.toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
    expect(source.calls).toEqual(["connect", "connect"]);
  });

  it("stops retrying once its signal aborts", async () => {
    const controller = new AbortController();
    const source = new ScriptedSource([lost(), lost(), lost()], []);
    const session = new SourceSession(source, {
      delay: async () => controller.abort(new Error("stopping")),
    });
    await expect(session.next(controller.signal)).rejects.toThrow("stopping");
    expect(source.calls).toEqual(["connect"]);
  });
});
