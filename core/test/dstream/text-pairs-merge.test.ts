import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CombinerTable } from "../../src/dstream/combiner-table.js";
import type { ShuffleBlock } from "../../src/dstream/shuffle-operator.js";
import type { ShuffledDStream } from "../../src/dstream/shuffled-dstream.js";
import { rowsOfTextPairs, type TextPairs } from "../../src/dstream/text-pairs-batch.js";
import { textPairsBlock } from "../../src/dstream/text-pairs-block.js";
import { mergeTextPairs } from "../../src/dstream/text-pairs-merge.js";
import { shippedPairs } from "../../src/execution/shipped-pairs.js";
import { StreamingContext } from "../../src/index.js";
import { JsKernels } from "../../src/kernels/js-kernels.js";
import { ManualClock } from "../../src/testing/index.js";

const ordinary = (byteLength: number) => new ArrayBuffer(byteLength);
/** Where a map side on an executor runs: blocks cross threads. */
const crossing = { kernels: new JsKernels(), soleMapTask: false, allocate: ordinary };
const add = (a: unknown, b: unknown) => (a as number) + (b as number);

// Keys that share prefixes, lengths and units beyond ASCII, so probes meet keys of the same
// length and hash slot that differ only late in their text.
const keyArb = fc.oneof(
  fc.constantFrom("", "a", "b", "ab", "ba", "abc", "abd", "é", "e\u0301", "😀", "\ud800"),
  fc.string({ maxLength: 4 }),
);
/** A map task's combined rows: distinct keys, as a map side's combiner table gives them. */
const blockArb = fc
  .uniqueArray(fc.tuple(keyArb, fc.integer({ min: -9, max: 9 })), {
    selector: ([key]) => key,
    maxLength: 40,
  })
  .map((rows) => shippedPairs(rows) as TextPairs);

/** What a `CombinerTable` makes of the blocks' rows, merged in order: the reference. */
function reference(
  blocks: ReadonlyArray<TextPairs>,
  merge: (a: unknown, b: unknown) => unknown,
): [string, unknown][] {
  const table = new CombinerTable<string, unknown>();
  for (const block of blocks) {
    for (const [key, value] of rowsOfTextPairs(block)) table.mergeCombiner(key, value, merge);
  }
  return table.rows();
}

describe("mergeTextPairs", () => {
  it("merges blocks like a CombinerTable of their rows: same keys, order and values", () => {
    fc.assert(
      fc.property(fc.array(blockArb, { maxLength: 4 }), (blocks) => {
        const merged = mergeTextPairs(blocks, add);
        const want = reference(blocks, add);
        expect(merged.rows()).toEqual(want);
        expect(merged.size).toBe(want.length);
        const pairs = merged.textPairs(ordinary);
        expect(pairs === undefined ? undefined : rowsOfTextPairs(pairs)).toEqual(want);
      }),
    );
  });

  it("merges in block order with the function given (not commutative here)", () => {
    const left = shippedPairs([
      ["a", 1],
      ["b", 2],
    ]) as TextPairs;
    const right = shippedPairs([
      ["b", 10],
      ["c", 3],
      ["a", 20],
    ]) as TextPairs;
    const calls: string[] = [];
    const merged = mergeTextPairs([left, right], (a, b) => {
      calls.push(`${a}<-${b}`);
      return (a as number) * 100 + (b as number);
    });
    expect(merged.rows()).toEqual([
      ["a", 120],
      ["b", 210],
      ["c", 3],
    ]);
    expect(calls).toEqual(["2<-10", "1<-20"]);
  });

  it("finds every key among thousands (many probes share a slot's hash bits)", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
    const left = shippedPairs(keys.map((key) => [key, 1])) as TextPairs;
    const right = shippedPairs(keys.reverse().map((key) => [key, 2])) as TextPairs;
    const merged = mergeTextPairs([left, right], add);
    expect(merged.size).toBe(5000);
    expect(merged.rows().every(([, value]) => value === 3)).toBe(true);
  });

  it("gives no text pairs when a merged value is not a number, and its rows still", () => {
    const block = shippedPairs([["a", 1]]) as TextPairs;
    const merged = mergeTextPairs([block, block], (a, b) => `${a}${b}`);
    expect(merged.textPairs(ordinary)).toBeUndefined();
    expect(merged.rows()).toEqual([["a", "11"]]);
  });

  it("cuts the first block's keys out of its text as one piece", () => {
    const first = shippedPairs([
      ["x", 1],
      ["yz", 2],
    ]) as TextPairs;
    const second = shippedPairs([
      ["yz", 1],
      ["w", 5],
    ]) as TextPairs;
    const pairs = mergeTextPairs([first, second], add).textPairs(ordinary) as TextPairs;
    expect(pairs.text).toBe("xyzw");
    expect([...pairs.ends]).toEqual([1, 3, 4]);
    expect([...pairs.values]).toEqual([1, 3, 5]);
  });
});

describe("text pairs through reduceByKey's shuffle", () => {
  const shuffled = () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    return ctx
      .queueStream<[string, number]>([])
      .reduceByKey((a, b) => a + b, 3) as unknown as ShuffledDStream<string, number, number>;
  };
  const rowsArb = fc.array(fc.tuple(keyArb, fc.integer({ min: -9, max: 9 })), { maxLength: 60 });

  it("map sides that cross threads write text pairs that reduce as their rows do", () => {
    fc.assert(
      fc.property(fc.array(rowsArb, { minLength: 1, maxLength: 3 }), (partitions) => {
        const stream = shuffled();
        const asRows = partitions.map((rows) => stream.mapSide(rows));
        const asPairs = partitions.map((rows) => stream.mapSide(rows, 0, crossing));
        for (const blocks of asPairs) {
          for (const block of blocks) expect(block.kind === "rows" && block.pairs).toBeTruthy();
        }
        for (let partition = 0; partition < 3; partition++) {
          const of = (outputs: ShuffleBlock[][]) => [
            outputs.map((blocks) => blocks[partition] as ShuffleBlock),
          ];
          const want = stream.reduceSide(of(asRows));
          expect(stream.reduceSide(of(asPairs))).toEqual(want);
          const pairs = stream.reduceSideAsTextPairs(of(asPairs), ordinary);
          expect(pairs === undefined ? undefined : rowsOfTextPairs(pairs)).toEqual(want);
          // Rows blocks have no text pairs to give.
          expect(stream.reduceSideAsTextPairs(of(asRows), ordinary)).toBeUndefined();
        }
      }),
    );
  });

  it("keeps rows for keys that are not strings or combiners that are not numbers", () => {
    const stream = shuffled();
    const numberKeys = stream.mapSide([[1, 2] as unknown as [string, number]], 0, crossing);
    expect(numberKeys.every((block) => block.kind === "rows" && block.pairs === undefined)).toBe(
      true,
    );
    const table = new CombinerTable<string, unknown>();
    table.merge("a", "text", (v) => v, add);
    expect(table.placedTextPairs(2, ordinary)).toBeUndefined();
  });

  it("makes a text-pair block's rows only when they are read", () => {
    const pairs = shippedPairs([["a", 1]]) as TextPairs;
    const block = textPairsBlock(pairs, true);
    expect(Object.values(block)).not.toContainEqual([["a", 1]]);
    expect(block.kind === "rows" && block.rows).toEqual([["a", 1]]);
  });
});
