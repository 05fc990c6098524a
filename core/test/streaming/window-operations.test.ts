import { batchRecords, type DStream, StreamingContext } from "sluice";
import { cachedBatchTimes, ManualClock, runBatches } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { sortedBatches } from "./helpers.js";
import * as jobs from "./jobs/windows.js";
import { MASTERS, onMaster } from "./masters.js";

// Expected values follow Spark's WindowOperationsSuite: batch interval 1 s, and by default a
// window of 2 s sliding every 1 s. numBatches = outputs × (slide / batch interval), as there.
type Pairs = [string, number][][];

const zeroToFive = [[0], [1], [2], [3], [4], [5]];

const largerSlideInput: Pairs = [
  [["a", 1]],
  [["a", 2]],
  [["a", 3]],
  [["a", 4]],
  [["a", 5]],
  [["a", 6]],
  [],
  [],
];
const largerSlideReduceOutput: Pairs = [[["a", 3]], [["a", 10]], [["a", 18]], [["a", 11]]];

const bigInput: Pairs = [
  [["a", 1]],
  [
    ["a", 1],
    ["b", 1],
  ],
  [
    ["a", 1],
    ["b", 1],
    ["c", 1],
  ],
  [
    ["a", 1],
    ["b", 1],
  ],
  [["a", 1]],
  [],
  [["a", 1]],
  [
    ["a", 1],
    ["b", 1],
  ],
  [
    ["a", 1],
    ["b", 1],
    ["c", 1],
  ],
  [
    ["a", 1],
    ["b", 1],
  ],
  [["a", 1]],
  [],
];

const bigReduceOutput: Pairs = [
  [["a", 1]],
  [
    ["a", 2],
    ["b", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 1],
  ],
  [["a", 1]],
  [["a", 1]],
  [
    ["a", 2],
    ["b", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 1],
  ],
  [["a", 1]],
];

// With an inverse and no filter, keys stay in the window with value 0 once they have been seen.
const bigReduceInvOutput: Pairs = [
  [["a", 1]],
  [
    ["a", 2],
    ["b", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 1],
    ["c", 0],
  ],
  [
    ["a", 1],
    ["b", 0],
    ["c", 0],
  ],
  [
    ["a", 1],
    ["b", 0],
    ["c", 0],
  ],
  [
    ["a", 2],
    ["b", 1],
    ["c", 0],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 2],
    ["c", 1],
  ],
  [
    ["a", 2],
    ["b", 1],
    ["c", 0],
  ],
  [
    ["a", 1],
    ["b", 0],
    ["c", 0],
  ],
];

const numBatchesFor = (outputs: number, slide: number) => outputs * (slide / 1000);

describe.each(MASTERS)("under %s", (master) => {
  const on = onMaster(master);

  describe("window", () => {
    const cases: [string, number, number, number[][]][] = [
      ["basic window", 2000, 1000, [[0], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]],
      [
        "tumbling window",
        2000,
        2000,
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
      ],
      [
        "larger window",
        4000,
        2000,
        [
          [0, 1],
          [0, 1, 2, 3],
          [2, 3, 4, 5],
          [4, 5],
        ],
      ],
      [
        "non-overlapping window",
        2000,
        3000,
        [
          [1, 2],
          [4, 5],
        ],
      ],
    ];
    it.each(cases)("%s (window %d ms, slide %d ms)", async (_name, window, slide, expected) => {
      const output = await runBatches(
        { inputs: [zeroToFive], numBatches: numBatchesFor(expected.length, slide), ...on() },
        jobs.window({ window, slide }),
      );
      expect(output).toEqual(expected);
    });

    it("window 4 s / slide 2 s over 1..6: early windows are emitted before they are full", async () => {
      const output = await runBatches(
        { inputs: [[[1], [2], [3], [4], [5], [6]]], numBatches: 8, ...on() },
        jobs.window({ window: "4s", slide: "2s" }),
      );
      expect(output).toEqual([
        [1, 2],
        [1, 2, 3, 4],
        [3, 4, 5, 6],
        [5, 6],
      ]);
    });

    it("skips missing batches inside a window, and emits empty windows", async () => {
      const output = await runBatches(
        { inputs: [[[1], null, [3], null, null]], ...on() },
        jobs.window({ window: 2000 }),
      );
      expect(output).toEqual([[1], [1], [3], [3], []]);
    });

    it("windows a windowed stream", async () => {
      const output = await runBatches({ inputs: [zeroToFive], ...on() }, jobs.windowOfWindow);
      expect(output).toEqual([
        [0, 0, 1],
        [0, 0, 1, 1, 2, 2, 3],
        [1, 2, 2, 3, 3, 4, 4, 5],
      ]);
    });

    it("rejects a window or slide that is not a multiple of the parent's slide, naming valid values", async () => {
      const ctx = new StreamingContext({ batchInterval: "1s", clock: new ManualClock() });
      const stream = ctx.queueStream<number>([]);
      expect(() => stream.window(1500)).toThrowError(
        expect.objectContaining({
          code: "SLUICE_INVALID_DURATION",
          message: expect.stringMatching(
            /window duration 1500 ms .* 1000 ms; valid values are 1000 ms, 2000 ms, 3000 ms/,
          ),
        }),
      );
      expect(() => stream.window(2000, 500)).toThrowError(
        expect.objectContaining({ message: expect.stringMatching(/slide duration 500 ms/) }),
      );
      expect(() => stream.window(4000, 2000).window(3000)).toThrowError(
        expect.objectContaining({ message: expect.stringMatching(/2000 ms, 4000 ms, 6000 ms/) }),
      );
      expect(() =>
        stream.map((x) => [x, 1]).reduceByKeyAndWindow((a, b) => a + b, { window: "2.5s" }),
      ).toThrowError(expect.objectContaining({ code: "SLUICE_INVALID_DURATION" }));
      expect(() =>
        stream
          .map((x) => [x, 1])
          .reduceByKeyAndWindow((a, b) => a + b, {
            window: 2000,
            slide: 1500,
            inverse: (a, b) => a - b,
          }),
      ).toThrowError(expect.objectContaining({ code: "SLUICE_INVALID_DURATION" }));
      expect(() => stream.window("soon" as never)).toThrowError(
        expect.objectContaining({ code: "SLUICE_INVALID_DURATION" }),
      );
    });
  });

  describe("reduceByKeyAndWindow", () => {
    const cases: [string, Pairs, Pairs, number, number, Pairs | undefined][] = [
      [
        "basic reduction",
        [
          [
            ["a", 1],
            ["a", 3],
          ],
        ],
        [[["a", 4]]],
        2000,
        1000,
        undefined,
      ],
      [
        "key already in window and new value added into window",
        [[["a", 1]], [["a", 1]]],
        [[["a", 1]], [["a", 2]]],
        2000,
        1000,
        undefined,
      ],
      [
        "new key added into window",
        [
          [["a", 1]],
          [
            ["a", 1],
            ["b", 1],
          ],
        ],
        [
          [["a", 1]],
          [
            ["a", 2],
            ["b", 1],
          ],
        ],
        2000,
        1000,
        undefined,
      ],
      [
        "key removed from window",
        [[["a", 1]], [["a", 1]], [], []],
        [[["a", 1]], [["a", 2]], [["a", 1]], []],
        2000,
        1000,
        // With an inverse the key stays, at 0.
        [[["a", 1]], [["a", 2]], [["a", 1]], [["a", 0]]],
      ],
      ["larger slide time", largerSlideInput, largerSlideReduceOutput, 4000, 2000, undefined],
      ["big test", bigInput, bigReduceOutput, 2000, 1000, bigReduceInvOutput],
    ];

    it.each(cases)("%s", async (_name, input, expected, window, slide, expectedWithInverse) => {
      const numBatches = numBatchesFor(expected.length, slide);
      const naive = await runBatches(
        { inputs: [input], numBatches, ...on() },
        jobs.reduceByKeyAndWindow({ window, slide, inverse: false }),
      );
      expect(sortedBatches(naive)).toEqual(expected);
      const inverse = await runBatches(
        { inputs: [input], numBatches, ...on() },
        jobs.reduceByKeyAndWindow({ window, slide, inverse: true }),
      );
      expect(sortedBatches(inverse)).toEqual(expectedWithInverse ?? expected);
    });

    it("with an inverse and a filter drops the keys that fell to zero", async () => {
      const output = await runBatches(
        { inputs: [bigInput], ...on() },
        jobs.reduceByKeyAndWindow({ window: "2s", slide: "1s", inverse: true, filterZero: true }),
      );
      expect(sortedBatches(output)).toEqual(bigReduceOutput);
    });

    it("with an inverse, keeps keys in a stable first-seen order", async () => {
      const output = await runBatches(
        { inputs: [bigInput], numPartitions: 1, ...on() },
        jobs.reduceByKeyAndWindow({ window: "2s", inverse: true }),
      );
      expect(output.slice(4, 6)).toEqual([
        [
          ["a", 2],
          ["b", 1],
          ["c", 0],
        ],
        [
          ["a", 1],
          ["b", 0],
          ["c", 0],
        ],
      ]);
    });

    it("with an inverse and a slide longer than the window (where Spark counts the gap too)", async () => {
      const input: Pairs = [[["a", 1]], [["a", 2]], [["a", 3]], [["a", 4]], [["a", 5]], [["a", 6]]];
      const run = (inverse: boolean) =>
        runBatches(
          { inputs: [input], ...on() },
          jobs.reduceByKeyAndWindow({ window: 2000, slide: 3000, inverse }),
        );
      expect(await run(false)).toEqual([[["a", 5]], [["a", 11]]]);
      expect(await run(true)).toEqual([[["a", 5]], [["a", 11]]]);
      const withNewKey: Pairs = [
        [["a", 1]],
        [["a", 2]],
        [["a", 3]],
        [["b", 4]],
        [["b", 5]],
        [["a", 6]],
      ];
      const output = await runBatches(
        { inputs: [withNewKey], ...on() },
        jobs.reduceByKeyAndWindow({ window: 2000, slide: 3000, inverse: true }),
      );
      expect(sortedBatches(output)).toEqual([
        [["a", 5]],
        [
          ["a", 6],
          ["b", 5],
        ],
      ]);
    });
  });

  describe("other window operations", () => {
    it("groupByKeyAndWindow", async () => {
      const output = await runBatches(
        { inputs: [bigInput], ...on() },
        jobs.groupByKeyAndWindow({ window: "2s", slide: "1s" }),
      );
      const counts = output.map((batch) =>
        batch.map(([key, values]) => [key, values.length] as [string, number]),
      );
      expect(sortedBatches(counts)).toEqual(bigReduceOutput);
      expect(output.flat().every(([, values]) => values.every((v) => v === 1))).toBe(true);
    });

    it("groupByKeyAndWindow keeps values in time order", async () => {
      const output = await runBatches(
        { inputs: [[[["k", 1]], [["k", 2]], [["k", 3]]]], ...on() },
        jobs.groupByKeyAndWindow({ window: 3000 }),
      );
      expect(output).toEqual([[["k", [1]]], [["k", [1, 2]]], [["k", [1, 2, 3]]]]);
    });

    it("countByWindow: an empty window counts 0", async () => {
      const output = await runBatches(
        { inputs: [[[1], [1], [1, 2], [0], [], []]], ...on() },
        jobs.countByWindow({ window: 2000, slide: 1000 }),
      );
      expect(output).toEqual([[1], [2], [3], [3], [1], [0]]);
    });

    it("countByWindow counts 0 before any record arrived", async () => {
      const output = await runBatches(
        { inputs: [[[], [], [7]]], ...on() },
        jobs.countByWindow({ window: "2s" }),
      );
      expect(output).toEqual([[0], [0], [1]]);
    });

    it("countByValueAndWindow drops values whose count fell to zero", async () => {
      const output = await runBatches(
        { inputs: [[["a"], ["b", "b"], ["a", "b"], []]], ...on() },
        jobs.countByValueAndWindow,
      );
      expect(sortedBatches(output)).toEqual([
        [["a", 1]],
        [
          ["a", 1],
          ["b", 2],
        ],
        [
          ["a", 1],
          ["b", 3],
        ],
        [
          ["a", 1],
          ["b", 1],
        ],
      ]);
    });

    it("reduceByWindow without an inverse emits nothing for an empty window", async () => {
      const output = await runBatches(
        { inputs: [[[1, 2], [4], [], [], [8]]], ...on() },
        jobs.reduceByWindow({ window: "2s", inverse: false }),
      );
      expect(output).toEqual([[3], [7], [4], [], [8]]);
    });

    it("reduceByWindow with an inverse keeps the last value (0) for an emptied window", async () => {
      const output = await runBatches(
        { inputs: [[[1, 2], [4], [], [], [8]]], ...on() },
        jobs.reduceByWindow({ window: "2s", inverse: true }),
      );
      expect(output).toEqual([[3], [7], [4], [0], [8]]);
    });

    it("reduceByWindow with a slide", async () => {
      const output = await runBatches(
        { inputs: [[[1], [2], [3], [4], [5], [6]]], ...on() },
        jobs.reduceByWindow({ window: "3s", slide: "2s", inverse: false }),
      );
      expect(output).toEqual([[3], [9], [15]]);
    });
  });
});

// Watching the inverse function's calls needs it on the main thread.
describe("reduceByKeyAndWindow's inverse (on the main thread, to watch it)", () => {
  it("calls inverse with the previous window value and the reduction of what left", async () => {
    const calls: string[] = [];
    await runBatches({ inputs: [[[["k", 1]], [["k", 2]], [["k", 4]]]] }, (s) =>
      s.reduceByKeyAndWindow((a, b) => a + b, {
        window: 2000,
        inverse: (a, b) => {
          calls.push(`${a}-${b}`);
          return a - b;
        },
      }),
    );
    // Window at 3 s: previous window (1 s, 2 s] = 3, batch 1 s left with 1.
    expect(calls).toEqual(["3-1"]);
  });
});

describe("slice and remember", () => {
  it("slice returns the batches between two times, aligned to the slide", async () => {
    const results: number[][] = [];
    await runBatches({ inputs: [[[1], [2], [3], [4]]] }, (s) => {
      s.foreachBatch(async (_batch, time) => {
        if (time !== 4000) return;
        for (const [from, to] of [
          [0, 1000],
          [0, 2000],
          [1000, 2000],
          [2000, 4000],
          [1500, 3999],
        ] as const) {
          results.push((await s.slice(from, to)).flatMap((batch) => batchRecords(batch)));
        }
      });
      return s;
    });
    expect(results).toEqual([[1], [1, 2], [1, 2], [2, 3, 4], [1, 2, 3]]);
  });

  it("slice before the context started fails", () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const stream = ctx.queueStream<number>([]);
    return expect(stream.slice(0, 1000)).rejects.toMatchObject({
      code: "SLUICE_ILLEGAL_STATE",
      message: /has not been initialized/,
    });
  });

  it("remember durations grow through windows, and old batches are forgotten", async () => {
    const input = Array.from({ length: 10 }, (_, x) => [x, x + 1]);
    let mapped: DStream<[number, number]> | undefined;
    let window1: DStream<[number, number]> | undefined;
    let window2: DStream<[number, number]> | undefined;
    const output = await runBatches({ inputs: [input] }, (s) => {
      s.context.remember("3s");
      mapped = s.map((x) => [x % 10, 1]);
      window1 = mapped.window(2000, 1000);
      window2 = window1.window(4000, 2000);
      return window2;
    });
    expect(output).toHaveLength(5);
    // Spark's "rdd cleanup - map and window".
    expect(window2?.rememberDuration).toBe(3000);
    expect(window1?.rememberDuration).toBe(3000 + 4000);
    expect(mapped?.rememberDuration).toBe(3000 + 4000 + 2000);
    const times = (stream: DStream<unknown> | undefined) =>
      cachedBatchTimes(stream as DStream<unknown>);
    expect(times(window2)).toEqual([8000, 10000]);
    expect(times(window1)).toEqual([4000, 5000, 6000, 7000, 8000, 9000, 10000]);
    expect(times(mapped)).toEqual([2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
  });
});
