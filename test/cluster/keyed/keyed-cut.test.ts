// Where a cluster job with state is cut, and what crosses the cut.
import { serialize } from "node:v8";
import { partitionOfKey, SluiceError, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { keyedChunks, pairsOfChunks } from "../../../core/src/job/keyed-chunks.js";
import { findKeyedCut } from "../../../core/src/job/keyed-cut.js";
import { mapSideCombineOf } from "../../../core/src/job/map-side-combine.js";

function context(): StreamingContext {
  return new StreamingContext({ batchInterval: 1000 });
}

describe("findKeyedCut", () => {
  it("cuts at the stream the first keyed operators read and splits the outputs", () => {
    const ctx = context();
    const lines = ctx.queueStream<string>([]);
    lines.print();
    const pairs = lines.flatMap((l) => l.split(" ")).map((w): [string, number] => [w, 1]);
    pairs
      .reduceByKey((a, b) => a + b)
      .updateStateByKey((v: number[], s: number | undefined) => (s ?? 0) + v.length)
      .print();
    pairs.window("2s").count().print();
    const cut = findKeyedCut(ctx.scope.graph.outputs);
    expect(cut?.boundary).toBe(pairs);
    expect(cut?.ingestOutputs.map((o) => o.outputId)).toEqual([0]);
    expect(cut?.keyedOutputs.map((o) => o.outputId)).toEqual([1, 2]);
  });

  it("cuts every count of one stream at one stream of pairs", () => {
    const ctx = context();
    const words = ctx.queueStream<string>([]);
    words.countByValue().print();
    words.countByValue(4).print();
    words.countByValueAndWindow("2s", "1s").print();
    const cut = findKeyedCut(ctx.scope.graph.outputs);
    expect(cut?.boundary.dependencies).toEqual([words]);
    expect(cut?.keyedOutputs).toHaveLength(3);
    // Every reader counts, so the map side may still send counts.
    expect(cut === undefined ? undefined : mapSideCombineOf(cut)?.partials).toBe("counts");
  });

  it("is undefined for a job with per-batch operations only", () => {
    const ctx = context();
    ctx
      .queueStream<[string, number]>([])
      .reduceByKey((a, b) => a + b)
      .print();
    expect(findKeyedCut(ctx.scope.graph.outputs)).toBeUndefined();
  });

  it("refuses keyed operators that read two different streams, naming them", () => {
    const ctx = context();
    const left = ctx.queueStream<[string, number]>([]);
    const right = ctx.queueStream<[string, number]>([]);
    left.updateStateByKey((v: number[], s: number | undefined) => (s ?? 0) + v.length).print();
    right.updateStateByKey((v: number[], s: number | undefined) => (s ?? 0) + v.length).print();
    let error: unknown;
    try {
      findKeyedCut(ctx.scope.graph.outputs);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("SLUICE_INVALID_CONFIG");
    expect((error as Error).message).toMatch(/stream 0\b.*stream 1\b/);
  });
});

describe("keyedChunks", () => {
  it("puts each pair in its key's partition and nothing is lost", () => {
    const pairs: [string, number][] = [
      ["a", 1],
      ["b", 2],
      ["a", 3],
      ["zz", 4],
    ];
    const chunks = keyedChunks(
      { time: 1000, partitions: [pairs.slice(0, 2), pairs.slice(2)] },
      3,
      "s",
    );
    const back = chunks.flatMap((chunk, partition) =>
      chunk === undefined
        ? []
        : (pairsOfChunks([chunk]) as [string, number][]).map((p) => [partition, p] as const),
    );
    expect(back.length).toBe(pairs.length);
    for (const [partition, [key]] of back) expect(partition).toBe(partitionOfKey(key, 3));
    expect(pairsOfChunks(chunks.filter((c): c is Uint8Array => c !== undefined))).toHaveLength(4);
  });

  it("gives back every pair, each key's values in their order, equal keys together", () => {
    const shared = { nested: [1, 2] };
    const pairs: [unknown, unknown][] = [
      ["w", 1],
      ["v", 1],
      ["w", 1],
      ["w", 2],
      ["w", 1],
      [0, "x"],
      [-0, "y"],
      [0, "x"],
      [7n, Number.NaN],
      [7n, Number.NaN],
      ["v", -0],
      ["v", 0],
      ["o", shared],
      ["o", shared],
      [["tuple", 1], null],
      [["tuple", 1], undefined],
      [true, 1.5],
    ];
    const [chunk] = keyedChunks(
      { time: 1000, partitions: [pairs.slice(0, 9), pairs.slice(9)] },
      1,
      "s",
    );
    const back = pairsOfChunks([chunk as Uint8Array]) as [unknown, unknown][];
    expect(back).toHaveLength(pairs.length);
    // Grouped by key, in the order keys first came; each key's values in their order.
    const valuesOf = (list: [unknown, unknown][], key: unknown) =>
      list.filter(([k]) => Object.is(k, key)).map(([, v]) => v);
    for (const key of ["w", "v", 0, -0, 7n, "o", true]) {
      expect(valuesOf(back, key)).toEqual(valuesOf(pairs, key));
    }
    expect(back.slice(0, 4)).toEqual([
      ["w", 1],
      ["w", 1],
      ["w", 2],
      ["w", 1],
    ]);
    expect(Object.is(valuesOf(back, "v")[1], -0)).toBe(true);
    expect(back.filter(([k]) => Object.is(k, -0))).toEqual([[-0, "y"]]);
    // Object keys each stay with their own value; equal object values stay one object.
    expect(back.filter(([k]) => Array.isArray(k))).toEqual([
      [["tuple", 1], null],
      [["tuple", 1], undefined],
    ]);
    const objects = valuesOf(back, "o");
    expect(objects[0]).toEqual(shared);
    expect(objects[0]).toBe(objects[1]);
  });

  it("sends a word count's repeated pairs as one run per key", () => {
    const pairs = Array.from({ length: 30_000 }, (_, i): [string, number] => [`word${i % 10}`, 1]);
    const chunks = keyedChunks({ time: 1000, partitions: [pairs] }, 2, "s");
    const bytes = chunks.reduce((sum, chunk) => sum + (chunk?.byteLength ?? 0), 0);
    // Ten keys, each one run: a few hundred bytes, where one serialized pair each took 400 kB.
    expect(bytes).toBeLessThan(1_000);
    const back = pairsOfChunks(chunks.filter((c): c is Uint8Array => c !== undefined));
    expect(back).toHaveLength(30_000);
    expect(new Set(back.map((pair) => JSON.stringify(pair))).size).toBe(10);
  });

  it("reads chunks of the first format (the serialized pairs)", () => {
    const legacy = serialize([
      ["a", 1],
      ["b", 2],
    ]);
    expect(pairsOfChunks([legacy])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  it("refuses a record that is not a pair, naming the stream and the batch", () => {
    expect(() =>
      keyedChunks({ time: 5000, partitions: [["word"]] }, 2, "MappedDStream (stream 3)"),
    ).toThrow(/MappedDStream \(stream 3\).*"word".*5000/);
  });
});
