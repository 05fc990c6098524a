// Named windowed operations take their window as options too, the shape of the function forms:
// the same results as the positional form, and a clear refusal of what only functions take.
import type { DStream } from "sluice";
import { runBatches } from "sluice/testing";
import { describe, expect, it } from "vitest";

type Pair = [string, number];

const batches: Pair[][] = [
  [
    ["a", 1],
    ["b", 2],
  ],
  [["a", 3]],
  [
    ["b", 4],
    ["c", 5],
  ],
  [],
  [["a", 6]],
];
const numbers = batches.map((batch) => batch.map(([, value]) => value));

const sorted = (output: unknown[][]) =>
  output.map((batch) => [...batch].map((record) => JSON.stringify(record)).sort());

async function both<T, R>(
  inputs: T[][],
  positional: (stream: DStream<T>) => DStream<R>,
  options: (stream: DStream<T>) => DStream<R>,
): Promise<[unknown[][], unknown[][]]> {
  const first = await runBatches({ inputs: [inputs] }, positional);
  const second = await runBatches({ inputs: [inputs] }, options);
  return [sorted(first), sorted(second)];
}

describe("named windows given as options", () => {
  it.each(["sum", "count", "min", "max"] as const)(
    "reduceByKeyAndWindow(%s, { window, slide, numPartitions }) is the positional form",
    async (op) => {
      const [positional, options] = await both(
        batches,
        (pairs: DStream<Pair>) => pairs.reduceByKeyAndWindow(op, 3000, 1000, 3),
        (pairs: DStream<Pair>) =>
          pairs.reduceByKeyAndWindow(op, { window: 3000, slide: 1000, numPartitions: 3 }),
      );
      expect(positional.length).toBe(5);
      expect(options).toEqual(positional);
    },
  );

  it("countByValueAndWindow, countByWindow and reduceByWindow take the options too", async () => {
    const words = batches.map((batch) => batch.map(([word]) => word));
    const [byValue, byValueOptions] = await both(
      words,
      (w: DStream<string>) => w.countByValueAndWindow("2s", "1s"),
      (w: DStream<string>) => w.countByValueAndWindow({ window: "2s", slide: "1s" }),
    );
    expect(byValueOptions).toEqual(byValue);
    const [count, countOptions] = await both(
      words,
      (w: DStream<string>) => w.countByWindow("2s"),
      (w: DStream<string>) => w.countByWindow({ window: "2s" }),
    );
    expect(count).toEqual([["2"], ["3"], ["3"], ["2"], ["1"]]);
    expect(countOptions).toEqual(count);
    const [max, maxOptions] = await both(
      numbers,
      (n: DStream<number>) => n.reduceByWindow("max", "3s", "1s"),
      (n: DStream<number>) => n.reduceByWindow("max", { window: "3s", slide: "1s" }),
    );
    expect(maxOptions).toEqual(max);
  });

  it("refuses what only the function forms take, and a slide given twice", async () => {
    await expect(
      runBatches({ inputs: [batches] }, (pairs: DStream<Pair>) =>
        pairs.reduceByKeyAndWindow("sum", {
          window: 2000,
          inverse: (a: number, b: number) => a - b,
        } as unknown as { window: number }),
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringMatching(/reduceByKeyAndWindow: .*"inverse" is for the function form/),
    });
    await expect(
      runBatches({ inputs: [batches] }, (pairs: DStream<Pair>) =>
        pairs.reduceByKeyAndWindow("sum", { window: 2000 }, 1000),
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringMatching(/inside the options object/),
    });
  });
});
