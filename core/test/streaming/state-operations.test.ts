import type { DStream, State } from "sluice";
import { cachedBatchTimes, runBatches } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { sortedBatches } from "./helpers.js";

// Expected values follow Spark's BasicOperationsSuite (updateStateByKey) and MapWithStateSuite.
const growing = [["a"], ["a", "b"], ["a", "b", "c"], ["a", "b"], ["a"], []];
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("updateStateByKey", () => {
  it("keeps a running count, updating every key with state in every batch", async () => {
    const output = await runBatches({ inputs: [growing] }, (s) =>
      s
        .map((x) => [x, 1])
        .updateStateByKey((values, state: number | undefined) => sum(values) + (state ?? 0)),
    );
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
    const output = await runBatches({ inputs: [growing] }, (s) =>
      s
        .map((x) => [x, 1])
        .updateStateByKey((values, state: number | undefined) => sum(values) + (state ?? 0), {
          initialState: [
            ["a", 1],
            ["c", 2],
          ],
        }),
    );
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
    const keysSeen = new Set<string>();
    const output = await runBatches({ inputs: [growing] }, (s) =>
      s
        .map((x) => [x, 1])
        .updateStateByKey(
          (values, state: number | undefined, { time, key }) => {
            keysSeen.add(key);
            return values.length > 0 ? time + (state ?? 0) : (state ?? 0);
          },
          {
            initialState: [
              ["a", 0],
              ["c", 0],
            ],
          },
        ),
    );
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
    class Counter {
      counter = 0;
      expireCounter = 0;
    }
    // A state is dropped once it was seen twice in a row without new values.
    const output = await runBatches(
      { inputs: [[["a", "b"], null, ["a", "c", "a"], ["c"], null, null]] },
      (s) =>
        s
          .map((x) => [x, 1])
          .updateStateByKey((values, state: Counter | undefined) => {
            const counter = state ?? new Counter();
            const added = sum(values);
            if (added === 0) counter.expireCounter += 1;
            else {
              counter.counter += added;
              counter.expireCounter = 0;
            }
            return counter.expireCounter === 2 ? undefined : counter;
          })
          .mapValues((counter) => counter.counter),
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
      { inputs: [[null, ["b", "a"], ["c", "a"], []]], numPartitions: 1 },
      (s) =>
        s
          .map((x) => [x, 1])
          .updateStateByKey((values, state: number | undefined) => sum(values) + (state ?? 0)),
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

describe("mapWithState", () => {
  const runningCount = (key: string, value: number | undefined, state: State<number>) => {
    const total = (value ?? 0) + (state.getOption() ?? 0);
    state.update(total);
    return [key, total] as [string, number];
  };

  /** Runs mapWithState and returns its output and its state snapshots, batch by batch. */
  async function withSnapshots<E>(
    input: (string[] | null)[],
    build: (
      pairs: DStream<[string, number]>,
    ) => ReturnType<DStream<[string, number]>["mapWithState"]>,
    numPartitions = 2,
  ): Promise<{ output: E[][]; snapshots: [string, unknown][][] }> {
    const snapshots: [string, unknown][][] = [];
    const output = await runBatches({ inputs: [input], numPartitions }, (s) => {
      const mapped = build(s.map((x) => [x, 1]));
      mapped.stateSnapshots().foreachBatch((batch) => {
        snapshots.push(batch.partitions.flat() as [string, unknown][]);
      });
      return mapped;
    });
    return { output: output as E[][], snapshots };
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
    const { output, snapshots } = await withSnapshots(input, (pairs) =>
      pairs.mapWithState({ fn: runningCount }),
    );
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
    const { output, snapshots } = await withSnapshots(input, (pairs) =>
      pairs.mapWithState({
        fn: (key, value, state: State<number>, { time }) => {
          state.update((value ?? 0) + (state.getOption() ?? 0));
          return time >= 4000 ? `${key}${key}@${time}` : undefined;
        },
      }),
    );
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
    const { output, snapshots } = await withSnapshots(input, (pairs) =>
      pairs.mapWithState({
        fn: (_key, value, state: State<number>) => {
          state.update((value ?? 0) + (state.getOption() ?? 0));
          return undefined;
        },
        initialState: [
          ["a", 5],
          ["b", 10],
          ["c", -20],
          ["d", 0],
        ],
      }),
    );
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
      (pairs) =>
        pairs.mapWithState({
          fn: (key, value, state: State<number>) => {
            if (state.exists()) {
              state.remove();
              return key;
            }
            state.update(value as number);
            return undefined;
          },
          numPartitions: 1,
        }),
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
    const calls: string[] = [];
    const { output, snapshots } = await withSnapshots(
      [["a", "b", "c"], ["a", "b"], ["a"], [], [], ["a"], ["a"], ["a"]],
      (pairs) =>
        pairs.mapWithState({
          fn: (key, value, state: State<number>, { time }) => {
            calls.push(
              `${time}:${key}:${value === undefined ? "-" : value}:${state.isTimingOut()}`,
            );
            if (value !== undefined) state.update(1);
            return state.isTimingOut() ? key : undefined;
          },
          timeout: "3s",
        }),
    );
    // c was last touched at 1 s, b at 2 s, a keeps receiving records: with a 3 s timeout, c times
    // out at 5 s and b at 6 s (idle for more than 3 s), each exactly once.
    expect(output).toEqual([[], [], [], [], ["c"], ["b"], [], []]);
    expect(calls.filter((call) => call.endsWith(":true"))).toEqual([
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
    const { output } = await withSnapshots([[], [], [], []], (pairs) =>
      pairs.mapWithState({
        fn: (key, _value, state: State<number>) =>
          state.isTimingOut() ? `${key} timed out` : undefined,
        initialState: [["idle", 0]],
        timeout: 2000,
      }),
    );
    expect(output).toEqual([[], [], [], ["idle timed out"]]);
  });

  it("gives State Spark's rules: get, exists, getOption, update, remove, timing out", async () => {
    const observations: unknown[] = [];
    const attempt = (fn: () => unknown): unknown => {
      try {
        return fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    await withSnapshots([["k"], [], [], []], (pairs) =>
      pairs.mapWithState({
        fn: (_key, value, state: State<number>) => {
          if (value !== undefined) {
            observations.push(
              state.exists(),
              attempt(() => state.get()),
              state.getOption(),
            );
            state.update(2);
            observations.push(state.exists(), state.get());
            state.remove();
            observations.push(
              state.exists(),
              attempt(() => state.update(3)),
              attempt(() => state.remove()),
            );
            return undefined;
          }
          return undefined;
        },
      }),
    );
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

    const timingOut: unknown[] = [];
    await withSnapshots([["k"], [], [], []], (pairs) =>
      pairs.mapWithState({
        fn: (_key, value, state: State<number>) => {
          if (value !== undefined) state.update(7);
          else if (state.isTimingOut()) {
            timingOut.push(
              state.exists(),
              state.get(),
              attempt(() => state.update(1)),
              attempt(() => state.remove()),
            );
          }
          return undefined;
        },
        timeout: 1000,
      }),
    );
    expect(timingOut).toEqual([true, 7, "SLUICE_ILLEGAL_STATE", "SLUICE_ILLEGAL_STATE"]);
  });

  it("keeps a key alive with any record when a timeout is set, even without update", async () => {
    const { output } = await withSnapshots([["k"], [], ["k"], [], ["k"], [], [], []], (pairs) =>
      pairs.mapWithState({
        fn: (key, _value, state: State<number>) => {
          if (!state.exists()) state.update(0);
          return state.isTimingOut() ? key : undefined;
        },
        timeout: "2s",
      }),
    );
    // Touched at 1, 3 and 5 s; times out at 8 s (idle for more than 2 s after 5 s).
    expect(output).toEqual([[], [], [], [], [], [], [], ["k"]]);
  });
});
