import {
  type Batch,
  batchRecords,
  type DStream,
  InputDStream,
  type ScopeHolder,
  StreamingContext,
} from "sluice";
import { cachedBatchTimes, ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import {
  folderPerTest,
  Outputs,
  processed,
  startJob,
  temporaryFolder,
} from "../recovery/job-harness.js";
import { MemoryLog, until } from "../recovery/memory-brokers.js";
import { compareValues } from "./helpers.js";

// A window reads its parent's batches again at later ticks. The streams between an input and a
// window are computed at every tick (the scheduler computes windows' parents then), so the
// streams above a window's parent keep a batch only for their own slide, and a window never
// recomputes an old batch from an input that has moved on. The input here behaves like a
// connector source: it hands each batch out once, and a time asked for again gets an empty batch
// (what a window over forgotten batches would then count).

/** Records of one batch, or `null` for a time without a batch (Spark's `None`). */
type Batches = ReadonlyArray<ReadonlyArray<number> | null>;

/** An input that takes each batch once, at its tick, as connector sources do. */
class TakeOnceInput extends InputDStream<number> {
  /** The times asked for, in order (a time asked for twice shows up twice). */
  readonly taken: number[] = [];

  constructor(
    context: ScopeHolder,
    private readonly batches: Batches,
  ) {
    super(context);
  }

  protected async computeInput(time: number): Promise<Batch<number> | undefined> {
    const last = this.taken.at(-1);
    this.taken.push(time);
    if (last !== undefined && time <= last) return { time, partitions: [] };
    const index = (time - (this.zeroTime ?? 0)) / this.scope.batchInterval - 1;
    const records = index < this.batches.length ? this.batches[index] : [];
    if (records === null || records === undefined) return undefined;
    const half = Math.ceil(records.length / 2);
    return { time, partitions: [records.slice(0, half), records.slice(half)] };
  }
}

/** What a job records: each output's batches by time, records sorted. */
type Recorded = Map<string, Map<number, unknown[]>>;

interface Run {
  readonly outputs: Recorded;
  readonly input: TakeOnceInput;
  /** Per stream watched: the most batches it held after any batch completed. */
  readonly mostHeld: Map<string, number>;
}

/**
 * Runs `build` over a take-once input for `numBatches` ticks on a manual clock starting at
 * `startMs`; `watch` names streams whose held batches are counted after every batch.
 */
async function run(
  batches: Batches,
  numBatches: number,
  build: (
    input: DStream<number>,
    output: (label: string, stream: DStream<unknown>) => void,
    watch: (label: string, stream: DStream<unknown>) => void,
  ) => void,
  startMs = 0,
): Promise<Run> {
  const clock = new ManualClock(startMs);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
  const input = new TakeOnceInput(ctx, batches);
  const outputs: Recorded = new Map();
  const watched = new Map<string, DStream<unknown>>();
  build(
    input,
    (label, stream) => {
      const byTime = new Map<number, unknown[]>();
      outputs.set(label, byTime);
      stream.foreachBatch((batch, time) => {
        byTime.set(time - startMs, batchRecords(batch).sort(compareValues));
      });
    },
    (label, stream) => watched.set(label, stream),
  );
  const mostHeld = new Map<string, number>();
  try {
    await ctx.start();
    for (let batch = 1; batch <= numBatches; batch++) {
      clock.advance(1000);
      await processed(ctx, startMs + batch * 1000);
      for (const [label, stream] of watched) {
        const held = cachedBatchTimes(stream).length;
        mostHeld.set(label, Math.max(mostHeld.get(label) ?? 0, held));
      }
    }
  } finally {
    await ctx.stop();
  }
  return { outputs, input, mostHeld };
}

/** The input's records in the window ending at `end`: batches at (end − window, end]. */
function recordsIn(batches: Batches, end: number, windowMs: number): number[] {
  const records: number[] = [];
  for (let time = end - windowMs + 1000; time <= end; time += 1000) {
    if (time <= 0) continue;
    records.push(...(batches[time / 1000 - 1] ?? []));
  }
  return records;
}

/** The multiples of `slideMs` up to `lastMs`: where windows end. */
function windowEnds(slideMs: number, lastMs: number): number[] {
  return Array.from({ length: Math.floor(lastMs / slideMs) }, (_, i) => (i + 1) * slideMs);
}

/** `fn` of the records of every window ending at a multiple of `slideMs` up to `lastMs`. */
function expectedWindows(
  batches: Batches,
  windowMs: number,
  slideMs: number,
  lastMs: number,
  fn: (records: number[]) => unknown[],
): Map<number, unknown[]> {
  return new Map(
    windowEnds(slideMs, lastMs).map((end) => [
      end,
      fn(recordsIn(batches, end, windowMs)).sort(compareValues),
    ]),
  );
}

/** `[key, count]` of the records' keys (`x % 3`), counts above zero. */
function countsByKey(records: number[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const x of records) counts.set(x % 3, (counts.get(x % 3) ?? 0) + 1);
  return [...counts];
}

// Idle at first (no batch, then empty ones), data mid-run, gaps inside windows, idle at the end.
const BATCHES: Batches = [null, [], [], [1, 2], [3], null, [], [4, 5, 6], [7], [], [8], null];
const NUM_BATCHES = 16;
const LAST_MS = NUM_BATCHES * 1000;

// Each window reads its parent's batches after the tick they were made at; the chain of maps
// above the window computes them from batches the input hands out once.
const chain = (input: DStream<number>): DStream<number> =>
  input.map((x) => x * 10).map((x) => x + 1);
const unchain = (x: number): number => (x - 1) / 10;

describe("windows over a chain of maps from an input that hands each batch out once", () => {
  it("count every batch of every window, for slides of one batch and longer, windows of windows included", async () => {
    // Each output on its own chain: a window sliding every batch would compute a shared chain
    // at every tick for the others.
    const { outputs, input } = await run(BATCHES, NUM_BATCHES, (s, output) => {
      output("w3s1", chain(s).window(3000, 1000));
      output("w4s2", chain(s).window(4000, 2000));
      output("w2s3", chain(s).window(2000, 3000));
      output("w5s5", chain(s).window(5000, 5000));
      output("w3s1 then w6s3", chain(s).window(3000, 1000).window(6000, 3000));
      output("countByWindow 3s/2s", chain(s).countByWindow(3000, 2000));
      output(
        "reduceByWindow 4s/2s",
        chain(s).reduceByWindow((a, b) => a + b, { window: 4000, slide: 2000 }),
      );
    });
    // The input was asked for each time once, at its tick.
    expect(input.taken).toEqual(Array.from({ length: NUM_BATCHES }, (_, i) => (i + 1) * 1000));
    const mapped = (records: number[]) => records.map((x) => x * 10 + 1);
    expect(outputs.get("w3s1")).toEqual(expectedWindows(BATCHES, 3000, 1000, LAST_MS, mapped));
    expect(outputs.get("w4s2")).toEqual(expectedWindows(BATCHES, 4000, 2000, LAST_MS, mapped));
    expect(outputs.get("w2s3")).toEqual(expectedWindows(BATCHES, 2000, 3000, LAST_MS, mapped));
    expect(outputs.get("w5s5")).toEqual(expectedWindows(BATCHES, 5000, 5000, LAST_MS, mapped));
    // Windows of 3 s every 1 s, windowed over 6 s every 3 s: the inner windows ending in
    // (t − 6 s, t], each holding its own batch and the two before.
    expect(outputs.get("w3s1 then w6s3")).toEqual(
      new Map(
        windowEnds(3000, LAST_MS).map((end) => [
          end,
          mapped(
            [5000, 4000, 3000, 2000, 1000, 0].flatMap((before) =>
              recordsIn(BATCHES, end - before, 3000),
            ),
          ).sort(compareValues),
        ]),
      ),
    );
    expect(outputs.get("countByWindow 3s/2s")).toEqual(
      expectedWindows(BATCHES, 3000, 2000, LAST_MS, (records) => [records.length]),
    );
    expect(outputs.get("reduceByWindow 4s/2s")).toEqual(
      expectedWindows(BATCHES, 4000, 2000, LAST_MS, (records) =>
        records.length === 0 ? [] : [mapped(records).reduce((a, b) => a + b)],
      ),
    );
  });

  it("count every batch in the keyed windows: reduceByKeyAndWindow with and without an inverse, named, and countByValueAndWindow", async () => {
    const { outputs, input } = await run(BATCHES, NUM_BATCHES, (s, output) => {
      const pairs = () => chain(s).map((x): [number, number] => [unchain(x) % 3, 1]);
      const add = (a: number, b: number) => a + b;
      const inverse = (a: number, b: number) => a - b;
      const positive = ([, count]: [number, number]) => count > 0;
      output(
        "inverse 4s/1s",
        pairs().reduceByKeyAndWindow(add, { window: 4000, inverse, filter: positive }),
      );
      output(
        "inverse 5s/2s",
        pairs().reduceByKeyAndWindow(add, {
          window: 5000,
          slide: 2000,
          inverse,
          filter: positive,
        }),
      );
      output(
        "inverse 3s/4s",
        pairs().reduceByKeyAndWindow(add, {
          window: 3000,
          slide: 4000,
          inverse,
          filter: positive,
        }),
      );
      output("no inverse 4s/2s", pairs().reduceByKeyAndWindow(add, { window: 4000, slide: 2000 }));
      output("named 4s/2s", pairs().reduceByKeyAndWindow("sum", 4000, 2000));
      output(
        "countByValueAndWindow 4s/3s",
        chain(s)
          .map((x) => unchain(x) % 3)
          .countByValueAndWindow(4000, 3000),
      );
    });
    expect(input.taken).toEqual(Array.from({ length: NUM_BATCHES }, (_, i) => (i + 1) * 1000));
    expect(outputs.get("inverse 4s/1s")).toEqual(
      expectedWindows(BATCHES, 4000, 1000, LAST_MS, countsByKey),
    );
    expect(outputs.get("inverse 5s/2s")).toEqual(
      expectedWindows(BATCHES, 5000, 2000, LAST_MS, countsByKey),
    );
    expect(outputs.get("inverse 3s/4s")).toEqual(
      expectedWindows(BATCHES, 3000, 4000, LAST_MS, countsByKey),
    );
    expect(outputs.get("no inverse 4s/2s")).toEqual(
      expectedWindows(BATCHES, 4000, 2000, LAST_MS, countsByKey),
    );
    expect(outputs.get("named 4s/2s")).toEqual(
      expectedWindows(BATCHES, 4000, 2000, LAST_MS, countsByKey),
    );
    expect(outputs.get("countByValueAndWindow 4s/3s")).toEqual(
      expectedWindows(BATCHES, 4000, 3000, LAST_MS, countsByKey),
    );
  });

  it("line up with a zero time that is not a multiple of the window (a context started mid-run)", async () => {
    const { outputs, input } = await run(
      BATCHES,
      NUM_BATCHES,
      (s, output) => {
        output("w4s2", chain(s).window(4000, 2000));
        output("countByWindow 3s/3s", chain(s).countByWindow(3000, 3000));
      },
      7000,
    );
    expect(input.taken).toHaveLength(NUM_BATCHES);
    const mapped = (records: number[]) => records.map((x) => x * 10 + 1);
    expect(outputs.get("w4s2")).toEqual(expectedWindows(BATCHES, 4000, 2000, LAST_MS, mapped));
    expect(outputs.get("countByWindow 3s/3s")).toEqual(
      expectedWindows(BATCHES, 3000, 3000, LAST_MS, (records) => [records.length]),
    );
  });
});

describe("what the streams around a window keep", () => {
  it("the raw streams above a window's parent hold their own slide's batch; the parent holds the window", async () => {
    const lines: Batches = Array.from({ length: 12 }, (_, i) => [i, i + 1, i + 2]);
    const { mostHeld, outputs } = await run(lines, 12, (s, output, watch) => {
      const words = s.map((x) => x * 10);
      const pairs = words.map((x): [number, number] => [x % 7, 1]);
      const counts = pairs.reduceByKeyAndWindow((a, b) => a + b, {
        window: 5000,
        inverse: (a, b) => a - b,
        filter: ([, count]) => count > 0,
      });
      output("counts", counts);
      const mapped = s.map((x) => x + 1);
      const sliding = mapped.map((x) => x * 2).window(4000, 2000);
      output("sliding", sliding.count());
      const named = s
        .map((x): [number, number] => [x % 2, x])
        .reduceByKeyAndWindow("sum", 6000, 3000);
      output("named", named);
      watch("input", s);
      watch("words", words);
      watch("pairs", pairs);
      watch("per-batch reductions", counts.dependencies[0] as DStream<unknown>);
      watch("mapped", mapped);
      watch("window's parent", sliding.dependencies[0] as DStream<unknown>);
      watch("named window's parent", named.dependencies[0] as DStream<unknown>);
    });
    expect(outputs.get("counts")?.size).toBe(12);
    // Streams read only at their own tick keep that tick's batch until the next one (or none,
    // when a fused chain of per-record operations computes through them).
    expect(mostHeld.get("input")).toBe(1);
    for (const raw of ["words", "pairs", "mapped"]) {
      expect(mostHeld.get(raw), raw).toBeLessThanOrEqual(1);
    }
    // The per-batch reductions stay for the window and one slide (what leaves the next window).
    expect(mostHeld.get("per-batch reductions")).toBe(5 + 1);
    // A window's parent: its window and the window's slide.
    expect(mostHeld.get("window's parent")).toBe(4 + 2);
    // A named window folds its parent's batches into its state at every slide.
    expect(mostHeld.get("named window's parent")).toBe(3 + 3);
  });

  it("ctx.remember still keeps every stream's batches for slice", async () => {
    const { mostHeld } = await run(BATCHES, 10, (s, output, watch) => {
      s.context.remember("4s");
      const mapped = chain(s);
      output("w2s2", mapped.window(2000, 2000));
      watch("input", s);
      watch("mapped", mapped);
    });
    expect(mostHeld.get("input")).toBe(4);
    // The window's parent: what the window remembers (4 s here) and its width, as in Spark.
    expect(mostHeld.get("mapped")).toBe(4 + 2);
  });

  it("a failure computing a window's parent between two slides fails the window that reads it", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 2 });
    const input = new TakeOnceInput(ctx, [[1], [2], [3], [4], [5], [6]]);
    const parent = input.map((x) => {
      if (x === 1) throw new Error("no ones");
      return x;
    });
    const windows: number[][] = [];
    parent.window(3000, 3000).foreachBatch((batch) => {
      windows.push(batchRecords(batch));
    });
    try {
      await ctx.start();
      // The batch at 1 s fails while no window is emitted; by 3 s the input has forgotten it.
      // The window at 3 s fails with that failure, rather than taking the input's batch again
      // (an empty one, as a source gives) and counting only 2 and 3.
      clock.advance(1000);
      await processed(ctx, 1000);
      clock.advance(1000);
      await processed(ctx, 2000);
      clock.advance(1000);
      await expect(processed(ctx, 3000)).rejects.toThrow(/no ones/);
      expect(windows).toEqual([]);
      expect(input.taken).toEqual([1000, 2000, 3000]);
    } finally {
      await ctx.stop();
    }
  });
});

// A job restored from a checkpoint between two slides of a window over a chain of maps.
describe("windows across a restart", () => {
  const folder = folderPerTest("sluice-window-remember-");
  const LINES = [["a b", "c"], ["a a"], [], ["b c d"], ["a", "d d"], ["c"], ["e a"], ["b"], []];
  const decoder = new TextDecoder();

  function build(ctx: StreamingContext, log: MemoryLog, outputs: Outputs, extra: boolean): void {
    const source = ctx.source(log.plugin(), {}, { id: "words" });
    const wordsOf = (input: typeof source) =>
      input
        .flatMap((record) => decoder.decode(record.value).split(" "))
        .map((word) => word.toUpperCase());
    const words = wordsOf(source);
    outputs.write("window", words.window(3000, 2000).name("window"));
    outputs.write(
      "counts",
      words
        .map((word): [string, number] => [word, 1])
        .reduceByKeyAndWindow((a, b) => a + b, {
          window: 3000,
          slide: 2000,
          inverse: (a, b) => a - b,
          filter: ([, count]) => count > 0,
        })
        .name("counts"),
    );
    // A window the restarted job adds: it starts empty at the restart.
    // (On its own chain: the restored window's parent holds the batches before the restart.)
    if (extra) outputs.write("added", wordsOf(source).window(4000, 2000).name("added"));
  }

  async function runBatch(
    ctx: StreamingContext,
    clock: ManualClock,
    log: MemoryLog,
    index: number,
  ): Promise<void> {
    for (const line of LINES[index] ?? []) log.append(index % 2 === 0 ? "p0" : "p1", line);
    await until(() => log.caughtUp(), `the source delivered batch ${index}`);
    clock.advance(1000);
    await processed(ctx, (index + 1) * 1000);
  }

  async function uninterrupted(): Promise<Outputs> {
    const reference = await temporaryFolder("sluice-window-remember-reference-");
    const log = new MemoryLog();
    const outputs = new Outputs();
    const clock = new ManualClock(0);
    const ctx = await startJob(reference.path, clock, (c) => build(c, log, outputs, false));
    try {
      for (let index = 0; index < LINES.length; index++) await runBatch(ctx, clock, log, index);
    } finally {
      await ctx.stop();
      await reference.remove();
    }
    return outputs;
  }

  it("a restart after an odd batch gives the uninterrupted windows; a window the new job adds starts empty", async () => {
    const expected = await uninterrupted();
    const log = new MemoryLog();
    const outputs = new Outputs();
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, (c) => build(c, log, outputs, false));
    folder.running.push(first);
    for (let index = 0; index < 5; index++) await runBatch(first, clock1, log, index);
    log.crash();

    const clock2 = new ManualClock(5000);
    const second = await startJob(folder.path, clock2, (c) => build(c, log, outputs, true));
    folder.running.push(second);
    expect(second.recoveryReport?.operatorsWithoutState.map(({ name }) => name)).toEqual(["added"]);
    for (let index = 5; index < LINES.length; index++) await runBatch(second, clock2, log, index);
    expect(outputs.batches("window")).toEqual(expected.batches("window"));
    expect(outputs.batches("counts")).toEqual(expected.batches("counts"));
    // Batches 6 s to 9 s only: the added window holds nothing from before the restart.
    expect(outputs.batches("added")).toEqual([
      [6000, ["C"]],
      [8000, ["A", "B", "C", "E"]],
    ]);
  });
});
