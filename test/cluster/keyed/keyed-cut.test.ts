// Where a cluster job with state is cut, and what crosses the cut.
import { deserialize } from "node:v8";
import { partitionOfKey, SluiceError, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { keyedChunks, pairsOfChunks } from "../../../core/src/job/keyed-chunks.js";
import { findKeyedCut } from "../../../core/src/job/keyed-cut.js";

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
        : (deserialize(chunk) as [string, number][]).map((p) => [partition, p] as const),
    );
    expect(back.length).toBe(pairs.length);
    for (const [partition, [key]] of back) expect(partition).toBe(partitionOfKey(key, 3));
    expect(pairsOfChunks(chunks.filter((c): c is Uint8Array => c !== undefined))).toHaveLength(4);
  });

  it("refuses a record that is not a pair, naming the stream and the batch", () => {
    expect(() =>
      keyedChunks({ time: 5000, partitions: [["word"]] }, 2, "MappedDStream (stream 3)"),
    ).toThrow(/MappedDStream \(stream 3\).*"word".*5000/);
  });
});
