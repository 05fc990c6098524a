// The conformance kit tested against connectors with one planted bug each: every bug that loses
// or duplicates data must fail a named case, and the correct connectors must pass every case.

import type { Source } from "sluice/connector";
import {
  type ConformancePlan,
  type SinkConformanceCase,
  type SinkConformanceFixture,
  type SourceConformanceCase,
  type SourceConformanceFixture,
  sinkConformanceCases,
  sourceConformanceCases,
} from "sluice/testing/conformance";
import { describe, expect, it } from "vitest";
import {
  FAKE_CONFIG,
  FAKE_INVALID,
  FakeLog,
  FakeQueueBroker,
  type FakeQueueSource,
  FakeStore,
  FakeStream,
  logSourcePlugin,
  queueSourcePlugin,
  type SinkBugs,
  type SourceBugs,
  sinkPlugin,
  streamSourcePlugin,
} from "./fake-connectors.js";

// Short waits: a bug shows as a record that never comes, and the kit waits this long for it.
const TIMEOUT_MS = 1_500;
const END_OF_INPUT = "the fakes have no end of input";

function queuePlan(
  bugs: SourceBugs = {},
  fixture: { noopDrop?: boolean; claimDropped?: number; countLosses?: boolean | "never" } = {},
): ConformancePlan<SourceConformanceCase> {
  return sourceConformanceCases(
    (): SourceConformanceFixture => {
      const broker = new FakeQueueBroker();
      return {
        plugin: queueSourcePlugin(broker, bugs),
        config: FAKE_CONFIG,
        produce: async (values) => broker.publish(values),
        dropConnections: async () => (fixture.noopDrop ? fixture.claimDropped : broker.dropAll()),
        // The source's own count of lost connections, as RabbitMQ's metrics give it (a broken
        // count that never grows, when told).
        ...(fixture.countLosses === false
          ? {}
          : {
              lostConnections: (source: Source) =>
                fixture.countLosses === "never" ? 0 : (source as FakeQueueSource).losses,
            }),
        pending: async () => broker.pending(),
      };
    },
    {
      invalidConfig: FAKE_INVALID,
      timeoutMs: TIMEOUT_MS,
      notApplicable: { endOfInput: END_OF_INPUT, seek: "a queue is not replayable" },
    },
  );
}

function logPlan(bugs: SourceBugs = {}): ConformancePlan<SourceConformanceCase> {
  return sourceConformanceCases(
    (): SourceConformanceFixture => {
      const log = new FakeLog();
      return {
        plugin: logSourcePlugin(log, bugs),
        config: FAKE_CONFIG,
        produce: async (values) => log.publish(values),
        dropConnections: async () => log.dropAll(),
        pending: async () => log.pending(),
      };
    },
    {
      invalidConfig: FAKE_INVALID,
      timeoutMs: TIMEOUT_MS,
      notApplicable: { endOfInput: END_OF_INPUT },
    },
  );
}

function streamPlan(bugs: SourceBugs = {}): ConformancePlan<SourceConformanceCase> {
  return sourceConformanceCases(
    (): SourceConformanceFixture => {
      const stream = new FakeStream();
      return {
        plugin: streamSourcePlugin(stream, bugs),
        config: FAKE_CONFIG,
        produce: async (values) => stream.publish(values),
        dropConnections: async () => stream.dropAll(),
        pending: async () => stream.pending(),
      };
    },
    {
      invalidConfig: FAKE_INVALID,
      timeoutMs: TIMEOUT_MS,
      notApplicable: { endOfInput: END_OF_INPUT },
    },
  );
}

function sinkPlan(bugs: SinkBugs = {}): ConformancePlan<SinkConformanceCase> {
  return sinkConformanceCases(
    (): SinkConformanceFixture => {
      const store = new FakeStore();
      return {
        plugin: sinkPlugin(store, bugs),
        config: FAKE_CONFIG,
        readBack: async () => store.readBack(),
        dropConnections: async () => store.dropAll(),
      };
    },
    { invalidConfig: FAKE_INVALID, timeoutMs: TIMEOUT_MS },
  );
}

function check<Case extends string>(plan: ConformancePlan<Case>, name: Case) {
  const found = plan.checks.find((candidate) => candidate.case === name);
  if (found === undefined) throw new Error(`the plan has no "${name}" case`);
  return found;
}

/** Runs every case of `plan`; returns the cases that failed. */
async function failures<Case extends string>(plan: ConformancePlan<Case>): Promise<Case[]> {
  const failed: Case[] = [];
  for (const candidate of plan.checks) {
    try {
      await candidate.run();
    } catch {
      failed.push(candidate.case);
    }
  }
  return failed;
}

describe("the conformance kit against correct connectors", () => {
  it("passes a correct non-replayable queue source in every case", async () => {
    const plan = queuePlan();
    expect(plan.checks.map((candidate) => candidate.case)).toEqual(
      expect.arrayContaining(["restart", "ack-after-output", "reconnect", "reconnect-unacked"]),
    );
    expect(await failures(plan)).toEqual([]);
  }, 60_000);

  it("passes a correct replayable log source in every case", async () => {
    const plan = logPlan();
    expect(plan.checks.map((candidate) => candidate.case)).toContain("seek");
    expect(await failures(plan)).toEqual([]);
  }, 60_000);

  it("passes a correct stream source with acknowledgements after output in every case", async () => {
    const plan = streamPlan();
    expect(plan.checks.map((candidate) => candidate.case)).toEqual(
      expect.arrayContaining(["seek", "acknowledged-restart", "ack-after-output", "restart"]),
    );
    expect(await failures(plan)).toEqual([]);
  }, 60_000);

  it("passes a correct idempotent sink in every case", async () => {
    expect(await failures(sinkPlan())).toEqual([]);
  }, 60_000);

  it("lists the cases it does not run, with the reasons", () => {
    const plan = queuePlan();
    expect(plan.notChecked).toEqual(
      expect.arrayContaining([
        { case: "seek", reason: "a queue is not replayable" },
        { case: "end-of-input", reason: END_OF_INPUT },
      ]),
    );
    expect(plan.checks.map((candidate) => candidate.case)).not.toContain("seek");
  });
});

describe("the conformance kit against incomplete fixtures", () => {
  it("fails the seek case of a source that is not replayable unless it is declared not applicable", async () => {
    const broker = new FakeQueueBroker();
    const plan = sourceConformanceCases(
      () => ({
        plugin: queueSourcePlugin(broker),
        config: FAKE_CONFIG,
        produce: async (values) => broker.publish(values),
      }),
      { invalidConfig: FAKE_INVALID, timeoutMs: TIMEOUT_MS },
    );
    await expect(check(plan, "seek").run()).rejects.toThrow(/only replayable sources seek/);
    await expect(check(plan, "ack-after-output").run()).rejects.toThrow(
      /must provide pending, or options.notApplicable.ackAfterOutput/,
    );
    await expect(check(plan, "reconnect-unacked").run()).rejects.toThrow(
      /must provide dropConnections/,
    );
  }, 30_000);
});

describe("the conformance kit against broken connectors", () => {
  it("catches a queue source that acknowledges records when it reads them", async () => {
    const plan = queuePlan({ ackAtRead: true });
    await expect(check(plan, "ack-after-output").run()).rejects.toThrow(
      /read but not acknowledged must stay unacknowledged/,
    );
    await expect(check(plan, "restart").run()).rejects.toThrow(/never arrived/);
  }, 30_000);

  it("catches a log source that commits offsets when it reads", async () => {
    await expect(check(logPlan({ ackAtRead: true }), "ack-after-output").run()).rejects.toThrow(
      /read but not acknowledged must stay unacknowledged/,
    );
  }, 30_000);

  it("catches a source that loses one record per read", async () => {
    const plan = queuePlan({ dropOne: true });
    await expect(check(plan, "batch").run()).rejects.toThrow(/never arrived/);
    await expect(check(plan, "restart").run()).rejects.toThrow(/never arrived/);
  }, 30_000);

  it("catches a seek that resumes at the checkpointed record instead of after it", async () => {
    const plan = logPlan({ seekAtOffset: true });
    await expect(check(plan, "seek").run()).rejects.toThrow(
      /at or before the checkpointed offset came again/,
    );
    await expect(check(plan, "restart").run()).rejects.toThrow(
      /acknowledged before the restart came again/,
    );
  }, 30_000);

  it("catches a source that delivers unacknowledged results again after a reconnect", async () => {
    await expect(
      check(queuePlan({ redeliverAfterReconnect: true }), "reconnect-unacked").run(),
    ).rejects.toThrow(/came again more than once/);
  }, 30_000);

  it("catches a log source whose memory replays what a still-valid acknowledgement covers", async () => {
    await expect(
      check(logPlan({ redeliverAfterReconnect: true }), "reconnect-unacked").run(),
    ).rejects.toThrow(/acknowledgement of their first delivery took effect/);
  }, 30_000);

  it("catches a source that keeps what it prefetched on a lost connection", async () => {
    await expect(
      check(queuePlan({ keepPrefetchOnLoss: true }), "reconnect-unacked").run(),
    ).rejects.toThrow(/not yet read came more than once after the source noticed the drop/);
  }, 30_000);

  it("catches it too when the source tells the loss only by failing a read", async () => {
    await expect(
      check(
        queuePlan({ keepPrefetchOnLoss: true }, { countLosses: false }),
        "reconnect-unacked",
      ).run(),
    ).rejects.toThrow(/not yet read came more than once after the source noticed the drop/);
  }, 30_000);

  it("without the source's count of lost connections, allows one copy more of what was in flight", async () => {
    await expect(
      check(queuePlan({}, { countLosses: false }), "reconnect-unacked").run(),
    ).resolves.toBeUndefined();
  }, 30_000);

  it("catches a stream source that acknowledges records when it reads them", async () => {
    const plan = streamPlan({ ackAtRead: true });
    await expect(check(plan, "acknowledged-restart").run()).rejects.toThrow(
      /read but not acknowledged must stay unacknowledged/,
    );
    await expect(check(plan, "ack-after-output").run()).rejects.toThrow(
      /read but not acknowledged must stay unacknowledged/,
    );
  }, 30_000);

  it("catches a stream source whose seek resumes at the checkpointed record", async () => {
    const plan = streamPlan({ seekAtOffset: true });
    // The checkpointed record is owed again by the external system: 6 unacknowledged, not 5.
    await expect(check(plan, "acknowledged-restart").run()).rejects.toThrow(
      /must acknowledge the records at or before the checkpointed offsets.*: 6 are unacknowledged, 5 expected/,
    );
    await expect(check(plan, "seek").run()).rejects.toThrow(
      /at or before the checkpointed offset came again/,
    );
  }, 30_000);

  it("catches a stream source that resumes from its group's pending list instead of the checkpoint", async () => {
    const plan = streamPlan({ seekToGroup: true });
    // The pending list still holds what the checkpoint covers: it would be delivered again.
    await expect(check(plan, "acknowledged-restart").run()).rejects.toThrow(
      /must acknowledge the records at or before the checkpointed offsets.*: 10 are unacknowledged, 5 expected/,
    );
    expect(await failures(plan)).toEqual(["seek", "acknowledged-restart"]);
  }, 30_000);

  it("catches a stream source whose seek leaves what the checkpoint covers unacknowledged", async () => {
    const plan = streamPlan({ seekKeepsCovered: true });
    await expect(check(plan, "acknowledged-restart").run()).rejects.toThrow(
      /seek must acknowledge the records at or before the checkpointed offsets/,
    );
    expect(await failures(plan)).toEqual(["acknowledged-restart"]);
  }, 30_000);

  it("catches a source that ignores the maxRecords hint", async () => {
    await expect(check(queuePlan({ ignoreMaxRecords: true }), "max-records").run()).rejects.toThrow(
      /at most maxRecords/,
    );
  }, 30_000);

  it("catches a dropConnections fixture that drops nothing", async () => {
    const plan = queuePlan({}, { noopDrop: true });
    await expect(check(plan, "reconnect").run()).rejects.toThrow(
      /dropConnections must drop a connection/,
    );
    await expect(check(plan, "reconnect-unacked").run()).rejects.toThrow(
      /dropConnections must drop a connection/,
    );
  }, 30_000);

  it("catches a drop that claims a count but that the source's own metrics never saw", async () => {
    const plan = queuePlan({}, { noopDrop: true, claimDropped: 2, countLosses: "never" });
    await expect(check(plan, "reconnect").run()).rejects.toThrow(
      /reported 2 closed, the source failed 0 reads with NotConnectedError and counted 0 lost/,
    );
  }, 30_000);

  it("catches a sink that declares itself idempotent and duplicates a replayed batch", async () => {
    await expect(check(sinkPlan({ falselyIdempotent: true }), "replay").run()).rejects.toThrow();
    const failed = await failures(sinkPlan({ falselyIdempotent: true }));
    expect(failed).toEqual(["replay"]);
  }, 30_000);

  it("catches a sink whose copies of a job replace each other's batches (no writer in its key)", async () => {
    const failed = await failures(sinkPlan({ ignoresWriter: true }));
    expect(failed).toEqual(["writers"]);
  }, 30_000);

  it("catches a sink that swallows a failed write", async () => {
    await expect(check(sinkPlan({ swallowWriteErrors: true }), "reconnect").run()).rejects.toThrow(
      /a write that resolved must have landed/,
    );
  }, 30_000);
});
