import type { DStream } from "sluice";
import { cachedBatchTimes, runBatches } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { sortedBatches } from "./helpers.js";
import * as jobs from "./jobs/state.js";
import { MASTERS, onMaster } from "./masters.js";

// Expected values follow Spark's BasicOperationsSuite (updateStateByKey) and MapWithStateSuite.
const growing = [["a"], ["a", "b"], ["a", "b", "c"], ["a", "b"], ["a"], []];
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe.each(MASTERS)("under %s", (master) => {
  const on = onMaster(master);

  describe("updateStateByKey", () => {
    it("keeps a running count, updating every key with state in every batch", async () => {
      const output = await runBatches({ inputs: [growing], ...on() }, jobs.runningCount);
      expect(sortedBatches(output)).toEqual([
        [["a", 1]],
        [
          ["a", 2],
          ["b", 1],
        ],
        [
          ["a", 3],
          ["b", 2],
          ["c", 1],
        ],
        [
          ["a", 4],
          ["b", 3],
          ["c", 1],
        ],
        [
          ["a", 5],
          ["b", 3],
          ["c", 1],
        ],
        [
          ["a", 5],
          ["b", 3],
          ["c", 1],
        ],
      ]);
    });

    it("starts from an initial state", async () => {
      const output = await runBatches({ inputs: [growing], ...on() }, jobs.runningCountFromInitial);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", 2],
          ["c", 2],
        ],
        [
          ["a", 3],
          ["b", 1],
          ["c", 2],
        ],
        [
          ["a", 4],
          ["b", 2],
          ["c", 3],
        ],
        [
          ["a", 5],
          ["b", 3],
          ["c", 3],
        ],
        [
          ["a", 6],
          ["b", 3],
          ["c", 3],
        ],
        [
          ["a", 6],
          ["b", 3],
          ["c", 3],
        ],
      ]);
    });

    it("passes the batch time and the key", async () => {
      const output = await runBatches({ inputs: [growing], ...on() }, jobs.timeAndKey);
      const keysSeen = new Set(jobs.trace);
      // a -> 1000, 3000, 6000, 10000, 15000, 15000; b -> 2000, 5000, 9000; c -> 0, 0, 3000.
      expect(sortedBatches(output)).toEqual([
        [
          ["a", 1000],
          ["c", 0],
        ],
        [
          ["a", 3000],
          ["b", 2000],
          ["c", 0],
        ],
        [
          ["a", 6000],
          ["b", 5000],
          ["c", 3000],
        ],
        [
          ["a", 10000],
          ["b", 9000],
          ["c", 3000],
        ],
        [
          ["a", 15000],
          ["b", 9000],
          ["c", 3000],
        ],
        [
          ["a", 15000],
          ["b", 9000],
          ["c", 3000],
        ],
      ]);
      expect([...keysSeen].sort()).toEqual(["a", "b", "c"]);
    });

    it("drops keys whose update returns undefined, and updates state on missing batches", async () => {
      // A state is dropped once it was seen twice in a row without new values.
      const output = await runBatches(
        { inputs: [[["a", "b"], null, ["a", "c", "a"], ["c"], null, null]], ...on() },
        jobs.expiringCounters,
      );
      expect(sortedBatches(output)).toEqual([
        [
          ["a", 1],
          ["b", 1],
        ],
        [
          ["a", 1],
          ["b", 1],
        ],
        [
          ["a", 3],
          ["c", 1],
        ],
        [
          ["a", 3],
          ["c", 2],
        ],
        [["c", 2]],
        [],
      ]);
    });

    it("has no batch before the first input batch, and keeps state keys in first-seen order", async () => {
      const output = await runBatches(
        { inputs: [[null, ["b", "a"], ["c", "a"], []]], numPartitions: 1, ...on() },
        jobs.runningCount,
      );
      expect(output).toEqual([
        [
          ["b", 1],
          ["a", 1],
        ],
        [
          ["b", 1],
          ["a", 2],
          ["c", 1],
        ],
        [
          ["b", 1],
          ["a", 2],
          ["c", 1],
        ],
      ]);
    });
  });

  describe("mapWithState", () => {
    /** Runs a mapWithState spec of jobs/state.ts: its output, state snapshots and trace. */
    async function withSnapshots<E>(
      input: (string[] | null)[],
      spec: jobs.SpecName,
      numPartitions = 2,
    ): Promise<{ output: E[][]; snapshots: [string, unknown][][]; trace: unknown[] }> {
      const output = await runBatches(
        { inputs: [input], numPartitions, ...on() },
        jobs.mapWithStateSnapshots(spec),
      );
      return { output: output as E[][], snapshots: [...jobs.snapshots], trace: [...jobs.trace] };
    }

    const input = [[], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b"], ["a"], []];
    const stateData = [
      [],
      [["a", 1]],
      [
        ["a", 2],
        ["b", 1],
      ],
      [
        ["a", 3],
        ["b", 2],
        ["c", 1],
      ],
      [
        ["a", 4],
        ["b", 3],
        ["c", 1],
      ],
      [
        ["a", 5],
        ["b", 3],
        ["c", 1],
      ],
      [
        ["a", 5],
        ["b", 3],
        ["c", 1],
      ],
    ];

    it("calls the function once per record and emits what it returns; snapshots hold the state", async () => {
      const { output, snapshots } = await withSnapshots(input, "runningCount");
      expect(sortedBatches(output)).toEqual([
        [],
        [["a", 1]],
        [
          ["a", 2],
          ["b", 1],
        ],
        [
          ["a", 3],
          ["b", 2],
          ["c", 1],
        ],
        [
          ["a", 4],
          ["b", 3],
        ],
        [["a", 5]],
        [],
      ]);
      expect(sortedBatches(snapshots)).toEqual(stateData);
    });

    it("passes the batch time; undefined returns emit nothing", async () => {
      const { output, snapshots } = await withSnapshots(input, "timeOrNothing");
      expect(sortedBatches(output)).toEqual([
        [],
        [],
        [],
        ["aa@4000", "bb@4000", "cc@4000"],
        ["aa@5000", "bb@5000"],
        ["aa@6000"],
        [],
      ]);
      expect(sortedBatches(snapshots)).toEqual(stateData);
    });

    it("starts from an initial state", async () => {
      const { output, snapshots } = await withSnapshots(input, "initialState");
      expect(output).toEqual(input.map(() => []));
      expect(sortedBatches(snapshots)).toEqual([
        [
          ["a", 5],
          ["b", 10],
          ["c", -20],
          ["d", 0],
        ],
        [
          ["a", 6],
          ["b", 10],
          ["c", -20],
          ["d", 0],
        ],
        [
          ["a", 7],
          ["b", 11],
          ["c", -20],
          ["d", 0],
        ],
        [
          ["a", 8],
          ["b", 12],
          ["c", -19],
          ["d", 0],
        ],
        [
          ["a", 9],
          ["b", 13],
          ["c", -19],
          ["d", 0],
        ],
        [
          ["a", 10],
          ["b", 13],
          ["c", -19],
          ["d", 0],
        ],
        [
          ["a", 10],
          ["b", 13],
          ["c", -19],
          ["d", 0],
        ],
      ]);
    });

    it("removes state", async () => {
      const { output, snapshots } = await withSnapshots(
        [[], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c"], ["a", "b"], ["a"], []],
        "removes",
      );
      expect(output).toEqual([[], [], ["a"], ["b"], ["a", "c"], ["b"], ["a"], []]);
      expect(snapshots).toEqual([
        [],
        [["a", 1]],
        [["b", 1]],
        [
          ["a", 1],
          ["c", 1],
        ],
        [["b", 1]],
        [["a", 1]],
        [],
        [],
      ]);
    });

    it("calls the function once for each key timing out, then drops it", async () => {
      const {
        output,
        snapshots,
        trace: calls,
      } = await withSnapshots(
        [["a", "b", "c"], ["a", "b"], ["a"], [], [], ["a"], ["a"], ["a"]],
        "timesOut",
      );
      // c was last touched at 1 s, b at 2 s, a keeps receiving records: with a 3 s timeout, c times
      // out at 5 s and b at 6 s (idle for more than 3 s), each exactly once.
      expect(output).toEqual([[], [], [], [], ["c"], ["b"], [], []]);
      expect(calls.filter((call) => String(call).endsWith(":true"))).toEqual([
        "5000:c:-:true",
        "6000:b:-:true",
      ]);
      expect(sortedBatches(snapshots).map((batch) => batch.map(([key]) => key))).toEqual([
        ["a", "b", "c"],
        ["a", "b", "c"],
        ["a", "b", "c"],
        ["a", "b", "c"],
        ["a", "b"],
        ["a"],
        ["a"],
        ["a"],
      ]);
    });

    it("times out initial state that never receives a record", async () => {
      const { output } = await withSnapshots([[], [], [], []], "idleInitial");
      expect(output).toEqual([[], [], [], ["idle timed out"]]);
    });

    it("gives State Spark's rules: get, exists, getOption, update, remove, timing out", async () => {
      const { trace: observations } = await withSnapshots([["k"], [], [], []], "stateRules");
      expect(observations).toEqual([
        false,
        "SLUICE_ILLEGAL_STATE",
        undefined,
        true,
        2,
        false,
        "SLUICE_ILLEGAL_STATE",
        "SLUICE_ILLEGAL_STATE",
      ]);

      const { trace: timingOut } = await withSnapshots([["k"], [], [], []], "timingOutRules");
      expect(timingOut).toEqual([true, 7, "SLUICE_ILLEGAL_STATE", "SLUICE_ILLEGAL_STATE"]);
    });

    it("keeps a key alive with any record when a timeout is set, even without update", async () => {
      const { output } = await withSnapshots(
        [["k"], [], ["k"], [], ["k"], [], [], []],
        "keepAlive",
      );
      // Touched at 1, 3 and 5 s; times out at 8 s (idle for more than 2 s after 5 s).
      expect(output).toEqual([[], [], [], [], [], [], [], ["k"]]);
    });
  });
});

describe("updateStateByKey's batches (inspected on the main thread)", () => {
  it("forgets old state batches after the remember duration", async () => {
    let state: DStream<[number, number]> | undefined;
    await runBatches({ inputs: [Array.from({ length: 10 }, (_, x) => [x, x + 1])] }, (s) => {
      s.context.remember("3s");
      state = s
        .map((x) => [x, 1])
        .updateStateByKey((values, previous: number | undefined) => sum(values) + (previous ?? 0));
      return state;
    });
    expect(cachedBatchTimes(state as DStream<unknown>)).toEqual([8000, 9000, 10000]);
  });
});
